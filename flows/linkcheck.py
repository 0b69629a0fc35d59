"""Checking links: fast, polite, and without false alarms.

One :class:`LinkChecker` checks a batch of links with httpx: a global limit on requests
in flight and a smaller one per host; ``429``/``503`` answers pause that host for as long
as ``Retry-After`` asks; connect errors and 502/503/504 are retried with backoff. Each
link is asked with HEAD first and with GET when HEAD was refused (405, 501, …), failed,
or the page is HTML and needs reading (soft-404 and ``#fragment`` checks). Redirects are
followed by hand so the whole chain is recorded and loops end. Every host and every
redirect hop is resolved first and refused when it lands in a private or loopback
range that settings do not allow, and the connection then goes to the very address that was
checked (a second DNS answer cannot send it elsewhere). Through an HTTP proxy
(:mod:`flows.proxy`), a name the local DNS cannot resolve is left to the proxy; a link the
proxy cannot be asked about (the proxy is down, or refuses it by its own rules) is
``skipped`` with the class ``proxy``: it says nothing about the link. The same URL asked
for many times in one batch is fetched once.

It knows nothing about storage: callers pass results they already trust (a cache) and
store what comes back.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import secrets
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, Self
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

from flows.gate import PriorityGate
from flows.http11 import HostConnections, ProxyRefused, Route
from flows.linkfacts import (
    REDIRECT_STATUSES,
    TRANSIENT_STATUSES,
    PageFacts,
    charset_of,
    is_file_path,
    is_html,
    looks_like_probe,
    mailto_problem,
    page_facts,
    retry_after_seconds,
    scheme_of,
    split_fragment,
    tel_problem,
)
from flows.proxy import Proxy, bypasses

LinkStatus = Literal["ok", "broken", "skipped"]
#: why a link is broken or was skipped (a contract: JSON output, reports, findings)
ErrorClass = Literal[
    "dns", "connect", "tls", "timeout", "too_many_redirects", "redirect_loop", "http_status",
    "soft_404", "fragment_missing", "invalid", "private_address", "unsupported_scheme", "proxy",
]
ERROR_CLASSES: tuple[str, ...] = ErrorClass.__args__  # type: ignore[attr-defined]
#: error classes that say more about the path to the server than about the link
DOUBTFUL_CLASSES = frozenset({"timeout", "fragment_missing"})
#: error classes that say nothing about the link: it could not be checked this time
UNCHECKED_CLASSES = frozenset({"proxy"})
#: a proxy's answers to CONNECT that mean it could not reach the link's host
_PROXY_GATEWAY_STATUSES = frozenset({502, 503, 504})
#: bodies up to this size are read even when not needed, to keep the connection alive
_DRAIN_LIMIT = 64 * 1024


@dataclass(frozen=True)
class LinkPolicy:
    """How to check links (agent.settings.LinkSettings builds this)."""

    concurrency: int = 64
    per_host: int = 4
    timeout_s: float = 15.0
    retries: int = 2
    backoff_s: float = 0.5
    max_redirects: int = 10
    max_retry_after_s: float = 120.0
    rate_limit_retries: int = 3
    max_body_bytes: int = 256 * 1024
    soft_404: bool = True
    check_fragments: bool = True
    allow_private: tuple[str, ...] = ()
    head_unreliable_hosts: tuple[str, ...] = ()
    user_agent: str = "civicwatch-linkcheck"
    #: the HTTP proxy for http and for https links (None: connect directly)
    http_proxy: Proxy | None = None
    https_proxy: Proxy | None = None
    #: hosts reached directly although a proxy is set (:func:`flows.proxy.bypasses`)
    no_proxy: tuple[str, ...] = ()

    def private_allowed(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in ipaddress.ip_network(net, strict=False) for net in self.allow_private)

    def proxy_for(self, scheme: str, host: str, port: int) -> Proxy | None:
        """The proxy a link to this host goes through, or None; pure."""
        proxy = self.https_proxy if scheme == "https" else self.http_proxy
        if proxy is None or bypasses(host, port, self.no_proxy):
            return None
        return proxy


@dataclass(frozen=True)
class Hop:
    """One redirect in a chain: this URL answered this status."""

    url: str
    status: int


@dataclass(frozen=True)
class LinkResult:
    """What checking one link established."""

    url: str
    status: LinkStatus
    checked_at: datetime
    error_class: ErrorClass | None = None
    message: str = ""
    http_status: int | None = None
    final_url: str | None = None
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: int = 0
    method: str = ""
    #: True when the answer came from an earlier check (the cache)
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def broken(self) -> bool:
        return self.status == "broken"

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.url, "status": self.status, "error_class": self.error_class, "message": self.message,
            "http_status": self.http_status, "final_url": self.final_url,
            "redirects": [{"url": h.url, "status": h.status} for h in self.redirects],
            "elapsed_ms": self.elapsed_ms, "method": self.method,
            "checked_at": self.checked_at.isoformat(), "cached": self.cached,
        }


class _Stop(Exception):
    """Ends a fetch with a classified error."""

    def __init__(self, error: ErrorClass, message: str, status: LinkStatus = "broken") -> None:
        super().__init__(message)
        self.error, self.message, self.status = error, message, status


@dataclass
class _Answer:
    status: int
    headers: httpx.Headers
    url: str
    body: bytes | None = None

    @property
    def html(self) -> bool:
        return is_html(self.headers.get("content-type"))

    def facts(self) -> PageFacts | None:
        if self.body is None:
            return None
        return page_facts(self.body, charset_of(self.headers.get("content-type")))


@dataclass
class _Fetched:
    """A fetch of a URL without its fragment."""

    result: LinkResult
    facts: PageFacts | None = None


@dataclass
class _Host:
    #: requests in flight to this host (the soft-404 probe, which its pages wait for, goes first)
    slots: PriorityGate
    head_reliable: bool = True
    not_before: float = 0.0
    #: set once a request to the host was let through the global limit
    started: bool = False
    #: set once the host answered 429: from then on, one request at a time
    throttled: bool = False
    serial: asyncio.Lock = field(default_factory=asyncio.Lock)
    probe: asyncio.Task[_Answer | None] | None = None
    addresses: asyncio.Task[list[str]] | None = None
    #: how requests reach the host (set once its addresses passed the guard)
    route: Route = field(default_factory=Route)
    waits: list[float] = field(default_factory=list)


class LinkChecker:
    """Checks links over one HTTP client; use as ``async with LinkChecker(policy) as checker``."""

    def __init__(
        self,
        policy: LinkPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._gate = PriorityGate(policy.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._inflight: dict[str, asyncio.Task[_Fetched]] = {}
        self._transport = transport
        self._verify = verify
        self._headers = {"User-Agent": policy.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        #: requests actually sent (for reports and tests of the cache)
        self.requests = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for task in self._inflight.values():
            task.cancel()
        for host in self._hosts.values():
            for task in (host.probe, host.addresses):
                if task is not None:
                    task.cancel()
        if self._transport is not None:
            await self._transport.aclose()

    # -- public ------------------------------------------------------------------------

    async def check_all(
        self, urls: Iterable[str], known: Mapping[str, LinkResult] | None = None
    ) -> dict[str, LinkResult]:
        """Check each distinct URL once; ``known`` results (a cache) are returned as they are."""
        known = known or {}
        distinct = list(dict.fromkeys(u.strip() for u in urls if u and u.strip()))
        results: dict[str, LinkResult] = {u: replace(known[u], cached=True) for u in distinct if u in known}
        todo = [u for u in distinct if u not in results]
        checked = await asyncio.gather(*(self.check(u) for u in todo))
        results.update(zip(todo, checked, strict=True))
        return results

    async def check(self, url: str) -> LinkResult:
        """Check one link."""
        url = url.strip()
        scheme = scheme_of(url)
        now = self.clock()
        if scheme == "mailto":
            problem = mailto_problem(url)
            return LinkResult(url, "broken" if problem else "ok", now, "invalid" if problem else None,
                              problem or "well-formed address (not contacted)")
        if scheme == "tel":
            problem = tel_problem(url)
            return LinkResult(url, "broken" if problem else "ok", now, "invalid" if problem else None,
                              problem or "well-formed number (not dialled)")
        if scheme not in ("http", "https"):
            return LinkResult(url, "skipped", now, "unsupported_scheme",
                              f"{scheme or 'relative'} links are not checked")
        base, fragment = split_fragment(url)
        task = self._inflight.get(base)
        if task is None:
            task = self._inflight[base] = asyncio.create_task(self._fetch(base))
        fetched = await asyncio.shield(task)
        result = replace(fetched.result, url=url)
        if fragment and result.ok and fetched.facts is not None and self.policy.check_fragments:
            if fragment not in fetched.facts.anchors and fragment.lower() != "top":
                result = replace(result, status="broken", error_class="fragment_missing",
                                 message=f"the page has no element with id {fragment!r}")
        return result

    # -- one URL -----------------------------------------------------------------------

    async def _fetch(self, url: str) -> _Fetched:
        started = time.monotonic()
        chain: list[Hop] = []
        # A file (PDF, image, archive) is asked with HEAD, so nothing is downloaded. A page is
        # read with GET at once when soft-404 or fragment checks need its start anyway: HEAD
        # then GET would ask the city's server twice for every page.
        method = "GET" if self._reads_pages and not is_file_path(url) else "HEAD"
        current = url
        answer: _Answer | None = None

        def done(status: LinkStatus, error: ErrorClass | None = None, message: str = "",
                 facts: PageFacts | None = None) -> _Fetched:
            return _Fetched(LinkResult(
                url=url, status=status, checked_at=self.clock(), error_class=error, message=message,
                http_status=answer.status if answer else None, final_url=current, redirects=tuple(chain),
                elapsed_ms=int((time.monotonic() - started) * 1000), method=method,
            ), facts)

        try:
            while True:
                host = await self._host_for(current)
                if method == "HEAD" and (not host.head_reliable or self._head_unreliable(current)):
                    method = "GET"
                answer = await self._ask(host, method, current)
                if answer.status in REDIRECT_STATUSES and answer.headers.get("location"):
                    chain.append(Hop(current, answer.status))
                    target = split_fragment(urljoin(current, answer.headers["location"]))[0]
                    if target in {h.url for h in chain}:
                        raise _Stop("redirect_loop", f"redirect loop: {current} sends back to {target} "
                                                     f"({len(chain)} hops)")
                    if len(chain) > self.policy.max_redirects:
                        raise _Stop("too_many_redirects", f"more than {self.policy.max_redirects} redirects")
                    current = target
                    continue
                if method == "HEAD" and (answer.status >= 400 or (answer.html and self._reads_pages)):
                    if answer.status in (405, 501):
                        host.head_reliable = False
                    method = "GET"  # ask again, properly, before calling anything broken
                    continue
                break
        except _Stop as stop:
            return done(stop.status, stop.error, stop.message)
        except httpx.HTTPError as exc:
            error, message = classify_exception(exc)
            return done("skipped" if error in UNCHECKED_CLASSES else "broken", error, message)
        except TimeoutError:
            return done("broken", "timeout", f"no answer within {self.policy.timeout_s:g} s")
        if answer.status == 407 and host.route.proxy is not None:
            return done("skipped", "proxy", f"the proxy {host.route.proxy} asks for credentials (HTTP 407); "
                                            f"give them in [links] proxy as http://user:password@host:port")
        if answer.status >= 400 or answer.status in REDIRECT_STATUSES:
            reason = httpx.codes.get_reason_phrase(answer.status) or "error"
            return done("broken", "http_status", f"HTTP {answer.status} {reason}".strip())
        if answer.status < 200:
            return done("broken", "http_status", f"HTTP {answer.status}")
        facts = answer.facts()
        if facts is not None and self.policy.soft_404:
            verdict = await self._soft_404(host, url, current, facts)
            if verdict:
                return done("broken", "soft_404", verdict, facts)
        return done("ok", None, f"HTTP {answer.status}", facts)

    @property
    def _reads_pages(self) -> bool:
        return self.policy.soft_404 or self.policy.check_fragments

    def _head_unreliable(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.policy.head_unreliable_hosts)

    async def _soft_404(self, host: _Host, requested: str, final: str, facts: PageFacts) -> str | None:
        """Why a 200 page is really "not found", or None."""
        if facts.says_not_found():
            return f"the page answered 200 but says it was not found (title {facts.title!r})"
        if host.probe is None:
            parts = urlsplit(final)
            probe_url = f"{parts.scheme}://{parts.netloc}/civicwatch-probe-{secrets.token_hex(8)}"
            host.probe = asyncio.create_task(self._probe(probe_url))
        probe = await asyncio.shield(host.probe)
        if probe is None:
            return None
        probe_facts = probe.facts()
        if probe_facts is not None and looks_like_probe(facts, final, probe_facts, probe.url, requested):
            return "the page answered 200 but is the same page this site shows for an address that does not exist"
        return None

    async def _probe(self, url: str) -> _Answer | None:
        """What the host answers for a path that cannot exist, when that answer is a 200 page."""
        current = url
        try:
            for _ in range(self.policy.max_redirects):
                host = await self._host_for(current)
                answer = await self._ask(host, "GET", current, urgent=True)  # the host's pages wait for it
                if answer.status in REDIRECT_STATUSES and answer.headers.get("location"):
                    current = split_fragment(urljoin(current, answer.headers["location"]))[0]
                    continue
                return answer if answer.status == 200 and answer.html else None
        except (_Stop, httpx.HTTPError, TimeoutError):
            return None
        return None

    # -- hosts, politeness, retries ----------------------------------------------------

    async def _host_for(self, url: str) -> _Host:
        """The host's state, after making sure it may be contacted at all."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Stop("invalid", f"not a web address: {url}")
        key = parts.netloc.lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        proxy = self.policy.proxy_for(parts.scheme, parts.hostname, port)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(PriorityGate(self.policy.per_host))
            host.addresses = asyncio.create_task(self._resolve(parts.hostname, port))
        assert host.addresses is not None
        try:
            addresses = await asyncio.shield(host.addresses)
        except (socket.gaierror, TimeoutError) as exc:
            if proxy is not None:  # behind a proxy, the local DNS may know only the local network
                host.route = Route(proxy=proxy)
                return host
            if isinstance(exc, TimeoutError):
                raise _Stop("dns", f"the name {parts.hostname!r} did not resolve within "
                                   f"{self.policy.timeout_s:g} s") from None
            raise _Stop("dns", f"the name {parts.hostname!r} does not resolve: {exc.strerror or exc}") from None
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not address.is_global and not self.policy.private_allowed(address):
                where = f"{parts.hostname} is" if parts.hostname == str(address) else \
                    f"{parts.hostname} is at {address},"
                raise _Stop("private_address",
                            f"{where} a private or loopback address; civicwatch does not fetch those unless "
                            f"[links] allow_private includes it", status="skipped")
        # connect to the addresses just checked, not to what the name resolves to next time
        host.route = Route(proxy=proxy) if proxy is not None else Route(addresses=tuple(addresses))
        return host

    async def _resolve(self, hostname: str, port: int) -> list[str]:
        try:
            literal = ipaddress.ip_address(hostname.strip("[]"))
            return [str(literal)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.policy.timeout_s):
            infos = await loop.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))  # in the resolver's order

    @asynccontextmanager
    async def _slot(self, host: _Host, urgent: bool) -> AsyncIterator[None]:
        async with host.slots.slot(urgent=urgent), (host.serial if host.throttled else nullcontext()):
            while (delay := host.not_before - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            # A host's first request, and every request to a host serialised after a 429, go
            # ahead of the queue: each host starts at once, and a slowed-down host's few
            # requests do not wait behind all the others' (its links would finish last).
            async with self._gate.slot(urgent=host.throttled or not host.started):
                host.started = True
                yield

    async def _ask(self, host: _Host, method: str, url: str, urgent: bool = False) -> _Answer:
        """One request, retried when the failure is transient and paused when the host asks;
        ``urgent``: before the host's other waiting requests."""
        attempt = rate_limited = 0
        while True:
            try:
                async with self._slot(host, urgent):
                    answer = await self._send(method, url, host.route)
            except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError,
                    httpx.ProxyError, httpx.TimeoutException, TimeoutError) as exc:
                if attempt >= self.policy.retries or classify_exception(exc)[0] in ("tls", "dns") or (
                        isinstance(exc, ProxyRefused) and exc.status_code not in _PROXY_GATEWAY_STATUSES):
                    raise
                attempt += 1
                await asyncio.sleep(self._backoff(attempt))
                continue
            wait = retry_after_seconds(answer.headers.get("retry-after"), self.clock())
            if answer.status == 429 and rate_limited < self.policy.rate_limit_retries:
                rate_limited += 1
                host.throttled = True
                self._pause(host, wait if wait is not None else self._backoff(rate_limited) * 4)
                continue
            if answer.status in TRANSIENT_STATUSES and attempt < self.policy.retries:
                attempt += 1
                if wait is not None:
                    self._pause(host, wait)
                else:
                    await asyncio.sleep(self._backoff(attempt))
                continue
            return answer

    def _pause(self, host: _Host, seconds: float) -> None:
        """Hold every request to this host for ``seconds`` (capped by max_retry_after)."""
        seconds = min(seconds, self.policy.max_retry_after_s)
        host.waits.append(seconds)
        host.not_before = max(host.not_before, time.monotonic() + seconds)

    def _backoff(self, attempt: int) -> float:
        base = self.policy.backoff_s * 2 ** (attempt - 1)
        return base * (0.75 + random.random() / 2)

    def _connections(self) -> httpx.AsyncBaseTransport:
        """Keep-alive connections to every host, kept per host (an httpx transport; no client
        layers: no cookie jar, no automatic redirects, nothing kept between links)."""
        if self._transport is None:
            self._transport = HostConnections(self._tls_context(), max_idle=self.policy.per_host)
        return self._transport

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every host (building one loads the CA bundle: ~15 ms)."""
        if self._verify is True:
            self._verify = ssl.create_default_context(cafile=certifi.where())
        elif self._verify is False:  # tests only: a context that checks nothing
            self._verify = httpx.create_ssl_context(verify=False)
        return self._verify

    async def _send(self, method: str, url: str, route: Route) -> _Answer:
        self.requests += 1
        timeout = self.policy.timeout_s
        request = httpx.Request(method, url, headers=self._headers,
                                extensions={"timeout": {"connect": timeout, "read": timeout, "write": timeout,
                                                        "pool": None}, "route": route})
        async with asyncio.timeout(timeout):
            response = await self._connections().handle_async_request(request)
            try:
                body = None
                if method == "GET":
                    if response.status_code == 200 and is_html(response.headers.get("content-type")) \
                            and self._reads_pages:
                        body = await _read_capped(response, self.policy.max_body_bytes)
                    elif _small(response.headers.get("content-length")):
                        await response.aread()  # a small body is read so the connection can be reused
                return _Answer(response.status_code, response.headers, url, body)
            finally:
                await response.aclose()


def _small(content_length: str | None) -> bool:
    return bool(content_length and content_length.isdigit() and int(content_length) <= _DRAIN_LIMIT)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The start of the body: at most ``limit`` bytes, decompressed."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def classify_exception(exc: BaseException) -> tuple[ErrorClass, str]:
    """The error class and a plain message for a failed request; pure."""
    if isinstance(exc, ProxyRefused) and exc.status_code in _PROXY_GATEWAY_STATUSES:
        return "connect", f"could not connect: {exc}"  # the proxy could not reach the link's host
    if isinstance(exc, ProxyRefused) and exc.status_code == 407:
        return "proxy", f"{exc}; give the proxy's credentials in [links] proxy as http://user:password@host:port"
    if isinstance(exc, httpx.ProxyError):  # the proxy is down or refuses: nothing is known of the link
        return "proxy", str(exc)
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            detail = getattr(item, "verify_message", None) or getattr(item, "reason", None) or item
            return "tls", f"the TLS certificate is not valid: {detail}"
        if isinstance(item, ssl.SSLError):
            return "tls", f"TLS failed: {getattr(item, 'reason', None) or item}"
        if isinstance(item, socket.gaierror):
            return "dns", f"the name does not resolve: {item.strerror or item}"
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "tls", f"the TLS certificate is not valid: {text}"
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timeout", "the server did not answer in time"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too_many_redirects", text
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return "invalid", text
    if isinstance(exc, httpx.ConnectError):
        return "connect", f"could not connect: {text}"
    return "connect", f"the connection failed: {text}"
