"""Real alert receivers on 127.0.0.1: an SMTP server and a webhook endpoint."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, Request, Response

from sandbox.server import ThreadedServer


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    def attachments(self) -> list[tuple[str, str, bytes]]:
        return [(p.get_filename() or "", p.get_content_type(), p.get_payload(decode=True))
                for p in self.message.iter_attachments()]


class SmtpSink:
    """A real SMTP server that records what it receives; it can go down and come back."""

    def __init__(self) -> None:
        self.mail: list[Mail] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.server: asyncio.base_events.Server | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        with self.lock:
            self.mail.append(Mail(envelope.mail_from or "", list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"

    def up(self) -> None:
        async def start() -> None:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            self.server = await self.loop.create_server(lambda: SMTP(self, hostname="sink.local"), sock=sock)

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def down(self) -> None:
        async def stop() -> None:
            if self.server is not None:
                self.server.close()
                await self.server.wait_closed()
                self.server = None

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)

    def url(self, to: str = "pio@springfield.example") -> str:
        return f"mailto://127.0.0.1:{self.port}?to={to}&from=civicwatch@springfield.example"

    def close(self) -> None:
        self.down()
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.up()
    yield sink
    sink.close()


@dataclass
class WebhookSink:
    base_url: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: bool = False

    def url(self, name: str) -> str:
        return f"json://{self.base_url.removeprefix('http://')}/hooks/{name}"


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    app = FastAPI()
    server = ThreadedServer(app)
    sink = WebhookSink(server.base_url)

    @app.post("/hooks/{name}")
    async def hook(name: str, request: Request) -> Response:
        if sink.failing:
            return Response("down for maintenance", status_code=503)
        sink.received.append((name, await request.json()))
        return Response("ok")

    server.start()
    yield sink
    server.stop()
