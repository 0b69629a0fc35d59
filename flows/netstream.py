"""Network streams on asyncio's own transports, for the link checker's HTTP/1.1 connections.

They implement httpcore's network-stream interface (flows.http11 speaks HTTP over them;
httpcore's pool can use them as its backend). httpcore talks to sockets through anyio
when it runs under asyncio, and anyio pays for its generality on every read and write: a
cancel scope with a timer, an exception-mapping context manager, a checkpoint per send,
a ``poll()`` system call to ask whether an idle pooled connection was closed. This
backend does the same job with an ``asyncio.Protocol``
(checking 2,000 small pages: 2.05 → 1.72 CPU-s; docs/performance.md, "Link checking"):
a read returns what already arrived or waits on one future with one timer; a write only
waits when the transport asks for backpressure; the protocol keeps reading while a
connection sits idle (up to a bound), so a server's close is already known when the
connection is about to be reused.

Errors map to the same httpcore exceptions the anyio backend raises, with the original
exception (an ``ssl.SSLCertVerificationError``, a ``ConnectionRefusedError``) chained as
the cause; flows.http11 raises them as httpx's, so :func:`flows.linkcheck.classify_exception`
names them the same way.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any, cast

import httpcore

#: stop reading from the socket while this much is buffered and unread …
_HIGH_WATER = 256 * 1024
#: … and start again below this
_LOW_WATER = 64 * 1024


class _Protocol(asyncio.Protocol):
    """Buffers what the socket delivers and wakes the one reader waiting for it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.readable: asyncio.Future[None] | None = None
        self.writable: asyncio.Future[None] | None = None

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def pause_writing(self) -> None:
        self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None

    def _wake_reader(self) -> None:
        if self.readable is not None and not self.readable.done():
            self.readable.set_result(None)

    # -- used by the stream --------------------------------------------------------------

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            chunk, rest = chunk[:max_bytes], chunk[max_bytes:]
            self.chunks.appendleft(rest)
        self.buffered -= len(chunk)
        if self.reading_paused and self.buffered < _LOW_WATER and self.transport is not None:
            self.transport.resume_reading()
            self.reading_paused = False
        return chunk


def _within(timeout: float | None) -> str:
    """The limit for a message (" within 15 s"), or nothing when there was none; pure."""
    return f" within {timeout:g} s" if timeout is not None else ""


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.chunks and not protocol.eof:
            protocol.readable = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await protocol.readable
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(f"no data{_within(timeout)}") from exc
            finally:
                protocol.readable = None
        if protocol.chunks:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__) from protocol.error
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if self._transport.is_closing():
            cause = protocol.error
            raise httpcore.WriteError(f"the connection is closed{f': {cause}' if cause else ''}") from cause
        self._transport.write(buffer)
        if protocol.writable is not None:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.writable
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(f"could not send{_within(timeout)}") from exc

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(self._transport, self._protocol, ssl_context,
                                                 server_hostname=server_hostname)
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout(f"the TLS handshake did not finish{_within(timeout)}") from exc
        except OSError as exc:  # ssl.SSLError included
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the server closed the connection during the TLS handshake")
        self._protocol.transport = cast(asyncio.Transport, transport)
        return AsyncioStream(self._protocol.transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle pooled connection that was closed or sent something
            return self._protocol.eof or bool(self._protocol.chunks)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens :class:`AsyncioStream` connections."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port}{_within(timeout)}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = transport.get_extra_info("socket")  # asyncio has set TCP_NODELAY already
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(cast(asyncio.Transport, transport), protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the link checker does not use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
