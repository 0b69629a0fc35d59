"""The link checker's network streams on asyncio transports, against real TCP servers on 127.0.0.1.

What HTTP does over them (keep-alive, large bodies, hang-ups) is checked in test_http11.py.
"""

from __future__ import annotations

import asyncio

import httpcore
import pytest

from flows.linkcheck import classify_exception
from flows.netstream import AsyncioBackend
from tests.conftest import run_async


async def echo_server() -> tuple[asyncio.Server, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(100)
        writer.write(data.upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_what_is_written_is_answered_and_a_closed_connection_reads_empty() -> None:
    async def run() -> tuple[bytes, bytes, bool]:
        server, port = await echo_server()
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        await stream.write(b"hello", timeout=2)
        answer = await stream.read(100, timeout=2)
        after = await stream.read(100, timeout=2)  # the server closed its side
        readable = stream.get_extra_info("is_readable")
        await stream.aclose()
        server.close()
        return answer, after, readable

    assert run_async(run) == (b"HELLO", b"", True)


def test_a_silent_peer_is_a_read_timeout_naming_the_limit() -> None:
    async def run() -> BaseException:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", server.sockets[0].getsockname()[1], timeout=2)
        with pytest.raises(httpcore.ReadTimeout) as caught:
            await stream.read(100, timeout=0.2)
        await stream.aclose()
        server.close()
        return caught.value

    assert str(run_async(run)) == "no data within 0.2 s"


def test_a_refused_connection_is_a_connect_error_naming_the_cause() -> None:
    async def run() -> BaseException:
        server, port = await echo_server()
        server.close()
        await server.wait_closed()
        with pytest.raises(httpcore.ConnectError) as caught:
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        return caught.value

    error = run_async(run)
    assert isinstance(error.__cause__, ConnectionRefusedError)
    assert classify_exception(error)[0] == "connect"
