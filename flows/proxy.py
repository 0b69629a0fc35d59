"""Which links go through an HTTP proxy, and how to speak to it. Pure.

On many city networks the web is reachable only through the city's HTTP proxy. The link
checker then asks the proxy: ``CONNECT host:443`` for an ``https`` link (TLS still runs end
to end, so the site's certificate is checked as usual) and the absolute URL for an
``http`` link. Hosts listed in ``no_proxy`` are reached directly, and so is loopback
(``localhost``, 127.0.0.0/8, ``::1``) always, as Chromium does: a proxy would take
"localhost" for itself.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy: where it listens, and the ``Proxy-Authorization`` value if it needs one."""

    host: str
    port: int
    #: ``Basic …`` built from the URL's user and password; never shown
    authorization: bytes | None = field(default=None, repr=False)

    def __str__(self) -> str:
        """The proxy as messages name it: no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def parse_proxy(url: str) -> Proxy:
    """The proxy an ``http://[user:password@]host[:port]`` URL names; ValueError says what is wrong.

    Only plain-HTTP proxies are spoken to (the usual kind: ``https`` links still get TLS end
    to end through them); ``https://`` and ``socks5://`` proxies are refused by name.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text  # "proxy.city.gov:3128", as curl and pip accept it
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a proxy URL ({exc})") from None
    if parts.scheme != "http":
        raise ValueError(f"a {parts.scheme}:// proxy is not supported; the link checker speaks to "
                         f"http:// proxies (they carry https links too, end to end encrypted)")
    if not parts.hostname:
        raise ValueError("the proxy URL has no host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("a proxy URL is only http://host:port (no path)")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = b"Basic " + base64.b64encode(pair)
    return Proxy(parts.hostname, port or 80, authorization)


def bypasses(host: str, port: int, no_proxy: Iterable[str]) -> bool:
    """Whether ``host`` is reached directly by the ``no_proxy`` rules; pure.

    The rules as curl and Python read ``no_proxy``: ``*`` (everything), a domain (itself and
    its subdomains; a leading dot is the same), ``host:port``, an IP address, or (as curl
    does) an address range such as ``10.0.0.0/8``. Loopback is always direct.
    """
    host = host.strip("[]").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address is not None and address.is_loopback):
        return True
    for rule in no_proxy:
        rule = rule.strip().lower()
        if not rule:
            continue
        if rule == "*":
            return True
        name, rule_port = _split_port(rule)
        if rule_port is not None and rule_port != port:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(name.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = name.lstrip(".").rstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def _split_port(rule: str) -> tuple[str, int | None]:
    """``example.gov:8080`` → (``example.gov``, 8080); an IPv6 address keeps its colons; pure."""
    if rule.startswith("["):
        name, _, rest = rule[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if rule.count(":") == 1:
        name, _, port = rule.partition(":")
        if port.isdigit():
            return name, int(port)
    return rule, None
