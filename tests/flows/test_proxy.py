"""Proxy URLs and no_proxy rules (flows.proxy): pure."""

from __future__ import annotations

import base64

import pytest

from flows.proxy import Proxy, bypasses, parse_proxy


def test_a_proxy_url_gives_host_port_and_credentials_never_shown() -> None:
    proxy = parse_proxy("http://link%40check:pa%3Ass@proxy.city.gov:3128")
    assert (proxy.host, proxy.port) == ("proxy.city.gov", 3128)
    assert proxy.authorization == b"Basic " + base64.b64encode(b"link@check:pa:ss")
    assert str(proxy) == "http://proxy.city.gov:3128" and "pa" not in repr(proxy)


def test_a_bare_host_and_port_is_taken_as_http_and_port_80_is_the_default() -> None:
    assert parse_proxy("proxy.city.gov:8080") == Proxy("proxy.city.gov", 8080)
    assert parse_proxy("http://10.1.2.3") == Proxy("10.1.2.3", 80)
    assert str(parse_proxy("http://[fd00::3]:3128")) == "http://[fd00::3]:3128"


@pytest.mark.parametrize(("url", "says"), [
    ("socks5://proxy:1080", "socks5:// proxy is not supported"),
    ("https://proxy:443", "https:// proxy is not supported"),
    ("http://proxy:3128/path", "no path"),
    ("http://:3128", "no host name"),
    ("http://proxy:port", "not a proxy URL"),
])
def test_proxies_the_checker_cannot_use_are_refused_by_name(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_proxy(url)


@pytest.mark.parametrize(("host", "port", "rules", "direct"), [
    ("www.springfield.gov", 443, ["springfield.gov"], True),
    ("springfield.gov", 443, [".springfield.gov"], True),
    ("notspringfield.gov", 443, ["springfield.gov"], False),
    ("intranet", 80, ["localhost", "intranet"], True),
    ("anything.example", 443, ["*"], True),
    ("10.20.30.40", 80, ["10.0.0.0/8"], True),
    ("10.20.30.40", 80, ["10.20.30.40"], True),
    ("192.168.1.1", 80, ["10.0.0.0/8"], False),
    ("[fd00::1]", 80, ["fd00::1"], True),
    ("[fd00::1]", 80, ["fd00::/8"], True),
    ("maps.city.gov", 8443, ["maps.city.gov:8443"], True),
    ("maps.city.gov", 443, ["maps.city.gov:8443"], False),
    ("www.springfield.gov", 443, [" ", ""], False),
])
def test_no_proxy_rules_are_read_as_curl_reads_them(host: str, port: int, rules: list[str], direct: bool) -> None:
    assert bypasses(host, port, rules) is direct


@pytest.mark.parametrize("host", ["localhost", "api.localhost", "127.0.0.1", "127.9.9.9", "[::1]"])
def test_loopback_is_always_reached_directly_as_chromium_does(host: str) -> None:
    assert bypasses(host, 80, [])
