"""A small HTTP proxy on 127.0.0.1 for tests: CONNECT tunnels and absolute-URL requests.

It records what it was asked, can demand credentials, refuse hosts, and resolve names the
machine's DNS does not know (as a city proxy resolves names its clients cannot).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class HttpProxy:
    """Use as ``async with HttpProxy() as url`` on the event loop that makes the requests."""

    #: the Proxy-Authorization value it demands (answering 407 without it)
    require: bytes | None = None
    #: host name → status it answers instead of connecting (403: its rules forbid the host)
    refuse: dict[str, int] = field(default_factory=dict)
    #: names only the proxy can resolve
    names: dict[str, str] = field(default_factory=dict)
    #: (method, target) of every request, in order
    asked: list[tuple[str, str]] = field(default_factory=list)
    #: the Proxy-Authorization of every request (None when absent)
    authorizations: list[bytes | None] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [line.split(":", 1) for line in lines[1:] if ":" in line]
        authorization = next((v.strip().encode() for k, v in headers if k.lower() == "proxy-authorization"), None)
        self.asked.append((method, target))
        self.authorizations.append(authorization)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
        else:
            parts = urlsplit(target)
            host, port = parts.hostname or "", str(parts.port or 80)
        host = host.strip("[]")
        if self.require is not None and authorization != self.require:
            await self._answer(writer, 407, "Proxy Authentication Required",
                               'proxy-authenticate: Basic realm="city"\r\n')
            return
        if host in self.refuse:
            await self._answer(writer, self.refuse[host], "Refused")
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.names.get(host, host), int(port))
        except OSError:
            await self._answer(writer, 502, "Bad Gateway")
            return
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            parts = urlsplit(target)
            path = parts.path or "/"
            kept = [f"{k}:{v}" for k, v in headers if k.lower() not in ("proxy-authorization", "connection")]
            up_writer.write("\r\n".join([f"{method} {path}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                                         *kept, "connection: close", "", ""]).encode("latin-1"))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, reason: str, headers: str = "") -> None:
        body = f"{status} {reason}".encode()
        writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-length: {len(body)}\r\n{headers}"
                     f"connection: close\r\n\r\n".encode() + body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes one way until that side closes, then close the other."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # either side went away: the tunnel ends
    finally:
        writer.close()
