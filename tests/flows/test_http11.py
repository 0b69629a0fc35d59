"""The link checker's HTTP/1.1 transport (flows.http11), against real TCP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from flows.http11 import HostConnections, ProxyRefused, Route
from flows.linkcheck import classify_exception
from flows.proxy import parse_proxy
from tests.conftest import run_async
from tests.proxy import HttpProxy
from tests.tls import self_signed

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def response(body: bytes, close: bool = False, headers: str = "") -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {len(body)}\r\n{headers}"
    return (head + ("connection: close\r\n" if close else "") + "\r\n").encode() + body


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request's head, or b"" when the client closed the connection."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""


class Server:
    """A tiny HTTP/1.1 server; counts the connections it accepted."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.alpn: list[str | None] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            tls = writer.get_extra_info("ssl_object")
            self.alpn.append(tls.selected_alpn_protocol() if tls else None)
            try:
                await self.handler(reader, writer)
            except ConnectionError:
                pass  # the client went away: nothing to answer
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=self.tls)
        port = self.server.sockets[0].getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


def request(method: str, url: str, timeout: float = 2.0) -> httpx.Request:
    return httpx.Request(method, url, extensions={"timeout": {"connect": timeout, "read": timeout,
                                                              "write": timeout, "pool": timeout}})


async def fetch(transport: httpx.AsyncBaseTransport, url: str, method: str = "GET", timeout: float = 2.0) -> bytes:
    answer = await transport.handle_async_request(request(method, url, timeout))
    try:
        return await answer.aread()
    finally:
        await answer.aclose()


async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while head := await read_request(reader):
        writer.write(response(b"hello")[: None if head.startswith(b"GET") else -5])  # HEAD: no body
        await writer.drain()


def fetch_in_turn(
    server: Server, methods: list[str], verify: ssl.SSLContext | None = None
) -> tuple[list[bytes], int]:
    """Ask the server once per method, one after another through one transport; the bodies
    and how many connections the server accepted."""

    async def run() -> tuple[list[bytes], int]:
        async with server as base:
            transport = HostConnections(verify)
            bodies = [await fetch(transport, f"{base}/{n}", method=method) for n, method in enumerate(methods)]
            await transport.aclose()
        return bodies, server.connections

    return run_async(run)


def test_responses_are_read_and_one_connection_is_kept_for_the_next_request() -> None:
    assert fetch_in_turn(Server(keep_alive), ["GET"] * 3) == ([b"hello"] * 3, 1)


def test_https_asks_for_http1_and_keeps_its_connection(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert, key)
    serving.set_alpn_protocols(["h2", "http/1.1"])

    server = Server(keep_alive, tls=serving)
    assert fetch_in_turn(server, ["GET"] * 2, ssl.create_default_context(cafile=str(cert))) == ([b"hello"] * 2, 1)
    assert server.alpn == ["http/1.1"]


def test_head_answers_leave_the_connection_ready_for_the_next_request() -> None:
    assert fetch_in_turn(Server(keep_alive), ["HEAD"] * 3 + ["GET"]) == ([b"", b"", b"", b"hello"], 1)


def test_a_connection_the_server_says_it_closes_is_not_reused() -> None:
    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"bye", close=True))
        await writer.drain()

    assert fetch_in_turn(Server(one_each), ["GET"] * 2) == ([b"bye", b"bye"], 2)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    hang_up: list[asyncio.Event] = []

    async def answer_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"once"))  # no "connection: close": the client may think it can reuse it
        await writer.drain()
        await hang_up[-1].wait()  # ... and the server closes it while it sits idle

    async def run() -> tuple[list[bytes], list[bool], int]:
        server = Server(answer_then_hang_up)
        async with server as base:
            transport = HostConnections()
            hang_up.append(asyncio.Event())
            first = await fetch(transport, f"{base}/a")
            [kept] = [c for idle in transport._idle.values() for c in idle]
            reusable_before = kept.reusable()
            hang_up[-1].set()
            async with asyncio.timeout(2):  # the hang-up is known once the loop has read the socket
                while kept.reusable():
                    await asyncio.sleep(0)
            reusable_after = kept.reusable()
            hang_up.append(asyncio.Event())
            hang_up[-1].set()
            second = await fetch(transport, f"{base}/b")
            await transport.aclose()
        return [first, second], [reusable_before, reusable_after], server.connections

    bodies, reusable, connections = run_async(run)
    assert bodies == [b"once", b"once"]
    assert reusable == [True, False] and connections == 2


def test_a_kept_connection_dropped_as_the_request_arrives_is_retried_once_on_a_new_one() -> None:
    async def drop_the_second_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"first"))
        await writer.drain()
        await read_request(reader)  # the kept connection's next request: hung up on, unanswered
        writer.transport.abort()

    assert fetch_in_turn(Server(drop_the_second_request), ["GET"] * 2) == ([b"first", b"first"], 2)


def test_a_new_connection_hung_up_on_is_an_error_not_retried() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async def run() -> tuple[BaseException, int]:
        server = Server(never_answer)
        async with server as base:
            transport = HostConnections()
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                await fetch(transport, f"{base}/a")
            await transport.aclose()
        return caught.value, server.connections

    error, connections = run_async(run)
    assert "without answering" in str(error) and connections == 1
    assert classify_exception(error)[0] == "connect"


def test_chunked_and_gzip_bodies_are_decoded() -> None:
    text = b"<title>Agenda</title>" * 200
    packed = gzip.compress(text)

    async def chunked_gzip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader):
            chunks = [packed[i:i + 1000] for i in range(0, len(packed), 1000)]
            body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-encoding: gzip\r\n"
                         b"transfer-encoding: chunked\r\n\r\n" + body)
            await writer.drain()

    assert fetch_in_turn(Server(chunked_gzip), ["GET"] * 2) == ([text, text], 1)


def test_an_answer_with_long_headers_is_read() -> None:
    # ~80 KB: more than one read
    policy = "default-src 'self' " + " ".join(f"https://cdn{n}.example.org" for n in range(3000))

    async def long_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"ok", close=True, headers=f"content-security-policy: {policy}\r\n"))
        await writer.drain()

    async def run() -> tuple[bytes, str]:
        async with Server(long_head) as base:
            transport = HostConnections()
            answer = await transport.handle_async_request(request("GET", f"{base}/"))
            body = await answer.aread()
            await answer.aclose()
            await transport.aclose()
        return body, answer.headers["content-security-policy"]

    assert run_async(run) == (b"ok", policy)


def test_a_body_left_unread_closes_its_connection() -> None:
    big = b"x" * (4 * 1024 * 1024)

    async def large(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader):
            writer.write(response(big))
            await writer.drain()

    async def run() -> tuple[bytes, int]:
        server = Server(large)
        async with server as base:
            transport = HostConnections()
            answer = await transport.handle_async_request(request("GET", f"{base}/big"))
            start = b""
            async for chunk in answer.aiter_bytes():
                start = chunk
                break  # the checker reads only the start of a page
            await answer.aclose()
            await fetch(transport, f"{base}/again")
            await transport.aclose()
        return start[:1], server.connections

    assert run_async(run) == (b"x", 2)


def test_a_body_larger_than_the_read_buffer_arrives_whole() -> None:
    big = bytes(range(256)) * 8192  # 2 MiB: reading pauses and resumes on the way

    async def large(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(big, close=True))
        await writer.drain()

    async def run() -> bytes:
        async with Server(large) as base:
            transport = HostConnections()
            body = await fetch(transport, f"{base}/big")
            await transport.aclose()
        return body

    assert run_async(run) == big


def test_a_body_cut_short_is_a_protocol_error() -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..")
        await writer.drain()

    async def run() -> BaseException:
        async with Server(short) as base:
            transport = HostConnections()
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                await fetch(transport, f"{base}/short")
            await transport.aclose()
        return caught.value

    assert isinstance(run_async(run), httpx.RemoteProtocolError)


def test_a_server_that_never_answers_is_a_read_timeout_classified_as_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # waits until the client gives up

    async def run() -> BaseException:
        async with Server(silent) as base:
            transport = HostConnections()
            with pytest.raises(httpx.ReadTimeout) as caught:
                await fetch(transport, f"{base}/slow", timeout=0.2)
            await transport.aclose()
        return caught.value

    assert classify_exception(run_async(run))[0] == "timeout"


def test_a_refused_connection_is_a_connect_error_naming_the_cause() -> None:
    async def run() -> BaseException:
        async with Server(read_request) as base:
            pass
        transport = HostConnections()
        with pytest.raises(httpx.ConnectError) as caught:
            await fetch(transport, f"{base}/gone")
        return caught.value

    error = run_async(run)
    assert isinstance(error.__cause__.__cause__, ConnectionRefusedError)  # type: ignore[union-attr]
    assert classify_exception(error)[0] == "connect"


def test_a_route_s_addresses_are_connected_to_and_the_name_kept_for_the_host_header() -> None:
    heads: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_request(reader))
        writer.write(response(b"pinned", close=True))
        await writer.drain()

    async def run() -> bytes:
        async with Server(record) as base:
            port = base.rsplit(":", 1)[1]
            transport = HostConnections()
            ask = request("GET", f"http://city.invalid:{port}/agenda")
            # the first address refuses; the next one is tried
            ask.extensions["route"] = Route(addresses=("127.0.0.3", "127.0.0.1"))
            answer = await transport.handle_async_request(ask)
            body = await answer.aread()
            await transport.aclose()
            return body

    assert run_async(run) == b"pinned"
    assert heads[0].startswith(b"GET /agenda HTTP/1.1") and b"host: city.invalid:" in heads[0].lower()


def test_a_tunnel_the_proxy_refuses_is_a_proxy_error_with_its_status() -> None:
    async def run() -> ProxyRefused:
        async with HttpProxy(refuse={"city.invalid": 403}) as proxy_url:
            transport = HostConnections()
            ask = request("GET", "https://city.invalid/agenda")
            ask.extensions["route"] = Route(proxy=parse_proxy(proxy_url))
            with pytest.raises(ProxyRefused) as refused:
                await transport.handle_async_request(ask)
            await transport.aclose()
            return refused.value

    refused = run_async(run)
    assert refused.status_code == 403 and "CONNECT city.invalid:443" in str(refused)
    assert classify_exception(refused)[0] == "proxy"
