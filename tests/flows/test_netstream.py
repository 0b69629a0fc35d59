"""The link checker's network backend on asyncio transports, against a real TCP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpcore
import httpx
import pytest

from flows.linkcheck import _HostTransport, classify_exception
from flows.netstream import AsyncioBackend
from tests.conftest import run_async

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def response(body: bytes, close: bool = False) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {len(body)}\r\n"
    return (head + ("connection: close\r\n" if close else "") + "\r\n").encode() + body


async def read_request(reader: asyncio.StreamReader) -> bool:
    return bool(await reader.readuntil(b"\r\n\r\n")) if not reader.at_eof() else False


class Server:
    """A tiny HTTP/1.1 server; counts the connections it accepted."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass  # the client went away: nothing to answer
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


async def get(transport: httpx.AsyncBaseTransport, url: str, timeout: float = 2.0) -> bytes:
    request = httpx.Request("GET", url, extensions={"timeout": {"connect": timeout, "read": timeout,
                                                                "write": timeout, "pool": timeout}})
    response = await transport.handle_async_request(request)
    try:
        return await response.aread()
    finally:
        await response.aclose()


def test_responses_are_read_and_one_connection_is_kept_for_the_next_request() -> None:
    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader):
            writer.write(response(b"hello"))
            await writer.drain()

    async def run() -> tuple[list[bytes], int]:
        server = Server(keep_alive)
        async with server as base:
            transport = _HostTransport(False, 4)
            bodies = [await get(transport, f"{base}/{n}") for n in range(3)]
            await transport.aclose()
        return bodies, server.connections

    assert run_async(run) == ([b"hello"] * 3, 1)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    hang_up: list[asyncio.Event] = []

    async def answer_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"once"))  # no "connection: close": the client may think it can reuse it
        await writer.drain()
        await hang_up[-1].wait()  # ... and the server closes it while it sits idle in the pool

    async def run() -> tuple[list[bytes], list[bool], int]:
        server = Server(answer_then_hang_up)
        async with server as base:
            transport = _HostTransport(False, 1)
            hang_up.append(asyncio.Event())
            first = await get(transport, f"{base}/a")
            [pooled] = transport._pool.connections
            expired_before = pooled.has_expired()  # what httpcore asks before reusing a connection
            hang_up[-1].set()
            async with asyncio.timeout(2):  # the hang-up is known once the loop has read the socket
                while not pooled.has_expired():
                    await asyncio.sleep(0)
            expired_after = pooled.has_expired()
            hang_up.append(asyncio.Event())
            hang_up[-1].set()
            second = await get(transport, f"{base}/b")
            await transport.aclose()
        return [first, second], [expired_before, expired_after], server.connections

    bodies, expired, connections = run_async(run)
    assert bodies == [b"once", b"once"]
    assert expired == [False, True] and connections == 2


def test_a_body_larger_than_the_read_buffer_arrives_whole() -> None:
    big = bytes(range(256)) * 8192  # 2 MiB: reading pauses and resumes on the way

    async def large(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(big, close=True))
        await writer.drain()

    async def run() -> bytes:
        async with Server(large) as base:
            transport = _HostTransport(False, 1)
            body = await get(transport, f"{base}/big")
            await transport.aclose()
        return body

    assert run_async(run) == big


def test_a_server_that_never_answers_is_a_read_timeout_classified_as_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # waits until the client gives up

    async def run() -> BaseException:
        async with Server(silent) as base:
            transport = _HostTransport(False, 1)
            with pytest.raises(httpx.ReadTimeout) as caught:
                await get(transport, f"{base}/slow", timeout=0.2)
            await transport.aclose()
        return caught.value

    assert classify_exception(run_async(run))[0] == "timeout"


def test_a_refused_connection_is_a_connect_error_naming_the_cause() -> None:
    async def run() -> BaseException:
        async with Server(read_request) as base:
            port = int(base.rsplit(":", 1)[1])
        with pytest.raises(httpcore.ConnectError) as caught:
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        return caught.value

    error = run_async(run)
    assert isinstance(error.__cause__, ConnectionRefusedError)
    assert classify_exception(error)[0] == "connect"
