"""Keep-alive HTTP/1.1 connections for the link checker: an httpx transport on h11.

The link checker sends thousands of small requests, a few at a time per host (its own
per-host limit decides how many), so what it needs from a transport is little: send a
request, hand back the answer as an ``httpx.Response`` (httpx still reads the headers,
decodes gzip and brotli, streams the body), and keep the connection for the next request
once the answer was read to its end. httpcore's pool, behind httpx's default transport,
does that and more (HTTP/2, proxies, its own connection limit with waiters), and under
asyncio pays for anyio's locks and cancellation shields on every request: a third of the
checker's CPU. This transport speaks HTTP/1.1 with h11 (the parser httpcore uses) on the
asyncio streams of :mod:`flows.netstream` and keeps idle connections in a list (checking
2,000 links: docs/performance.md, "Link checking").

Each request may carry a :class:`Route` (the request extension ``"route"``): the addresses
to connect to, so that the connection goes to the address the caller checked and not to
whatever a second DNS answer says, or an HTTP proxy to go through (``CONNECT`` for https,
the absolute URL for http; :mod:`flows.proxy`).

A connection kept idle that the server closed meanwhile is noticed before it is used
(the stream knows the server hung up); one closed at the very moment a request goes out
is retried once on a new connection, as browsers do (the checker only sends GET and
HEAD, which are safe to repeat).

Errors are httpx's own exceptions (``httpx.ConnectError``, ``httpx.ReadTimeout``,
``httpx.RemoteProtocolError`` …), the original chained as the cause, as httpx's
transport raises them.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import h11
import httpcore
import httpx

from flows.netstream import AsyncioBackend
from flows.proxy import Proxy

#: read this much from the socket at a time
_READ_SIZE = 64 * 1024
#: an answer's head may be this long (h11 allows 16 KiB; real sites send longer Set-Cookie
#: and Content-Security-Policy headers; httpcore allows the same)
_MAX_HEAD = 100 * 1024

#: scheme, host, port
Origin = tuple[bytes, bytes, int]


@dataclass(frozen=True)
class Route:
    """How a request reaches its origin (the request extension ``"route"``)."""

    #: connect to these addresses, in turn, instead of resolving the host name again
    addresses: tuple[str, ...] = ()
    #: through this HTTP proxy (which resolves the host name itself)
    proxy: Proxy | None = None


DIRECT = Route()
#: idle connections are kept per origin and route
_Key = tuple[Origin, Proxy | None]


class ProxyRefused(httpx.ProxyError):
    """The proxy answered ``CONNECT`` with something other than 2xx."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code

_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    h11.RemoteProtocolError: httpx.RemoteProtocolError,
    h11.LocalProtocolError: httpx.LocalProtocolError,
}
#: a kept connection failing this way before any answer arrived is retried once
_HUNG_UP = (httpcore.ReadError, httpcore.WriteError, httpx.RemoteProtocolError)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """Raise the network layer's and h11's errors as httpx's, the original chained."""
    try:
        yield
    except tuple(_ERRORS) as exc:
        kind = next(target for source, target in _ERRORS.items() if isinstance(exc, source))
        raise kind(str(exc) or type(exc).__name__) from exc


def origin_of(url: httpx.URL) -> Origin:
    """Where a request goes: scheme, host and port (the default port filled in); pure."""
    return url.raw_scheme, url.raw_host, url.port or (443 if url.raw_scheme == b"https" else 80)


class _Connection:
    """One TCP (or TLS) connection and its HTTP/1.1 state."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, key: _Key) -> None:
        self.stream = stream
        self.key = key
        self.state = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.reused = False

    def reusable(self) -> bool:
        """Both sides finished their last message and the server has not closed or spoken since."""
        return (self.state.our_state is h11.IDLE and self.state.their_state is h11.IDLE
                and not self.stream.get_extra_info("is_readable"))

    async def send(self, request: httpx.Request, timeout: float | None) -> None:
        target, headers = request.url.raw_path, request.headers.raw
        proxy = self.key[1]
        if proxy is not None and request.url.raw_scheme == b"http":  # a plain-HTTP proxy is asked for the whole URL
            target = request.url.raw_scheme + b"://" + request.url.netloc + target
            if proxy.authorization:
                headers = [*headers, (b"Proxy-Authorization", proxy.authorization)]
        data = self.state.send(h11.Request(method=request.method.encode("ascii"), target=target,
                                           headers=headers)) or b""
        async for chunk in request.stream:  # type: ignore[union-attr]  # empty for GET and HEAD
            data += self.state.send(h11.Data(data=chunk)) or b""
        data += self.state.send(h11.EndOfMessage()) or b""
        await self.stream.write(data, timeout)

    async def next_event(self, timeout: float | None) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self.state.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read(_READ_SIZE, timeout)
            if not data and self.state.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("the server closed the connection without answering")
            self.state.receive_data(data)

    async def response_head(self, timeout: float | None) -> h11.Response:
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):  # a 100 Continue is skipped
                raise httpx.RemoteProtocolError(f"the server sent {type(event).__name__} instead of an answer")

    async def tunnel(self, authority: bytes, timeout: float | None) -> None:
        """Ask the proxy this connection goes to for a tunnel to ``host:port``."""
        proxy = self.key[1]
        assert proxy is not None
        headers = [(b"Host", authority)]
        if proxy.authorization:
            headers.append((b"Proxy-Authorization", proxy.authorization))
        data = self.state.send(h11.Request(method=b"CONNECT", target=authority, headers=headers)) or b""
        data += self.state.send(h11.EndOfMessage()) or b""
        await self.stream.write(data, timeout)
        head = await self.response_head(timeout)
        if not 200 <= head.status_code < 300:
            reason = head.reason.decode("latin-1", "replace") or httpx.codes.get_reason_phrase(head.status_code)
            raise ProxyRefused(f"the proxy {proxy} answered {head.status_code} {reason} to CONNECT "
                               f"{authority.decode('ascii', 'replace')}", head.status_code)
        if self.state.trailing_data[0]:
            raise httpx.RemoteProtocolError(f"the proxy {proxy} sent data before the tunnel was used")

    def finish(self) -> bool:
        """Take the rest of the answer from what already arrived (a HEAD answer, an empty or
        fully buffered body); True when the connection is ready for the next request."""
        try:
            while self.state.their_state is h11.SEND_BODY:
                event = self.state.next_event()
                if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                    return False
            if self.state.our_state is h11.DONE and self.state.their_state is h11.DONE:
                self.state.start_next_cycle()
        except h11.ProtocolError:  # a broken answer: the connection is not reused
            return False
        return self.reusable()


class _Body(httpx.AsyncByteStream):
    """An answer's body; its connection goes back to the idle list once it was read whole."""

    def __init__(self, pool: HostConnections, connection: _Connection, timeout: float | None) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        with _httpx_errors():
            while True:
                event = await connection.next_event(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    return
                else:
                    raise httpx.RemoteProtocolError("the server closed the connection before the body ended")

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection)


class HostConnections(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 connections, one per request in flight, kept idle up to ``max_idle``
    per origin. It sets no limit on requests: the caller's per-host limit does.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None, max_idle: int = 8) -> None:
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._ssl_context.set_alpn_protocols(["http/1.1"])  # said, for servers that expect ALPN
        self._max_idle = max_idle
        self._backend = AsyncioBackend()
        self._idle: dict[_Key, list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        route: Route = request.extensions.get("route", DIRECT)
        connect_timeout, read_timeout = timeouts.get("connect"), timeouts.get("read")
        with _httpx_errors():
            connection = await self._connect(request.url, route, connect_timeout)
            try:
                try:
                    await connection.send(request, timeouts.get("write"))
                    head = await connection.response_head(read_timeout)
                except _HUNG_UP:
                    if not connection.reused:
                        raise
                    await connection.stream.aclose()
                    connection = await self._connect(request.url, route, connect_timeout, fresh=True)
                    await connection.send(request, timeouts.get("write"))
                    head = await connection.response_head(read_timeout)
            except BaseException:
                await connection.stream.aclose()
                raise
        return httpx.Response(
            head.status_code, headers=head.headers.raw_items(), stream=_Body(self, connection, read_timeout),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(head.reason)})

    async def _connect(self, url: httpx.URL, route: Route, timeout: float | None, fresh: bool = False) -> _Connection:
        """A kept connection to the URL's origin (by the same route) that is still good, else a new one."""
        origin = origin_of(url)
        key = (origin, route.proxy)
        idle = self._idle.get(key)
        while idle and not fresh:
            connection = idle.pop()
            if connection.reusable():
                connection.reused = True
                return connection
            await connection.stream.aclose()
        scheme, raw_host, port = origin
        host = raw_host.decode("ascii")
        if route.proxy is None:
            stream = await self._open(route.addresses or (host,), port, timeout)
        else:
            stream = await self._open_proxy(route.proxy, timeout)
        connection = _Connection(stream, key)
        if scheme == b"https":
            try:
                if route.proxy is not None:
                    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                    await connection.tunnel(authority.encode("ascii"), timeout)
                    connection = _Connection(stream, key)  # the tunnel's HTTP state is done with
                connection.stream = await stream.start_tls(self._ssl_context, server_hostname=host, timeout=timeout)
            except BaseException:
                await stream.aclose()
                raise
        return connection

    async def _open(self, addresses: tuple[str, ...], port: int, timeout: float | None) -> httpcore.AsyncNetworkStream:
        """A TCP connection to the first of the addresses that accepts one."""
        for address in addresses[:-1]:
            try:
                return await self._backend.connect_tcp(address, port, timeout=timeout)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
        return await self._backend.connect_tcp(addresses[-1], port, timeout=timeout)

    async def _open_proxy(self, proxy: Proxy, timeout: float | None) -> httpcore.AsyncNetworkStream:
        try:
            return await self._backend.connect_tcp(proxy.host, proxy.port, timeout=timeout)
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            raise httpx.ProxyError(f"the proxy {proxy} cannot be reached: {exc}") from exc

    async def release(self, connection: _Connection) -> None:
        """Keep a connection whose answer was read to its end; close any other."""
        idle = self._idle.setdefault(connection.key, [])
        if connection.finish() and len(idle) < self._max_idle:
            idle.append(connection)
        else:
            await connection.stream.aclose()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                await connection.stream.aclose()
        self._idle.clear()
