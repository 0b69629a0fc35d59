"""Alert channels: Apprise URLs from the config. The only module that talks to Apprise.

A channel is identified in the database by a hash of its resolved URL, never the URL
(which may hold a password); it is shown to people as ``scheme://host`` only.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import apprise
from apprise.attachment.memory import AttachMemory

from agent.redact import redact
from agent.settings import AlertSettings, SecretValue

log = logging.getLogger(__name__)
_EMAIL_SCHEMES = ("mailto", "mailtos")


def channel_id(url: str) -> str:
    """A stable, non-reversible id for a channel URL; pure."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def channel_label(url: str) -> str:
    """``scheme://host[:port]`` without user, password, path or query; pure."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else "(not a URL)"


@dataclass(frozen=True)
class Attachment:
    data: bytes
    name: str
    media_type: str


@dataclass(frozen=True)
class Channel:
    route: str
    id: str
    label: str
    url: SecretValue
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def is_email(self) -> bool:
        return self.label.split(":", 1)[0] in _EMAIL_SCHEMES

    def send(self, subject: str, body: str, attachment: Attachment | None = None) -> tuple[str | None, int]:
        """Deliver once. Returns (None, ms) on success, else (what went wrong, ms)."""
        notifier = apprise.Apprise()
        if not notifier.add(self.url.get_secret_value()):
            return "Apprise does not recognise this channel URL", 0
        attach = None
        if attachment is not None:
            attach = apprise.AppriseAttachment()
            attach.add(AttachMemory(content=attachment.data, name=attachment.name, mimetype=attachment.media_type))
        started = time.monotonic()
        with apprise.LogCapture(level=logging.DEBUG) as captured:
            ok = bool(notifier.notify(body=body, title=subject, body_format=apprise.NotifyFormat.TEXT,
                                      attach=attach))
        elapsed = int((time.monotonic() - started) * 1000)
        return (None if ok else _reason(captured.getvalue())), elapsed


def _reason(log_text: str) -> str:
    """The useful lines of Apprise's log for a failed send, secrets masked."""
    lines = [line.split(" - ", 2)[-1].strip() for line in log_text.splitlines()]
    useful = [line for line in lines if any(w in line for w in ("rror", "xception", "ailed", "efused", "imed out",
                                                                 "Connection", "HTTP", "Response"))]
    return redact("; ".join(dict.fromkeys(useful)) or "delivery failed (no reason given)")[:500]


def build_channels(settings: AlertSettings) -> dict[tuple[str, str], Channel]:
    """Every configured channel by (route, id); unusable ones carry their problem."""
    channels: dict[tuple[str, str], Channel] = {}
    for route in settings.routes:
        for ref in route.channels:
            url = ref.get_secret_value()
            problem = ref.problem
            if problem is None and not apprise.Apprise().add(url):
                problem = f"{channel_label(url)} is not a URL Apprise recognises"
            cid = channel_id(url) if url else channel_id(ref.source)
            channel = Channel(route.name, cid, channel_label(url) if url else ref.source, ref, problem)
            if problem:
                log.warning("alert channel %s of route %s is disabled: %s", channel.label, route.name, problem)
            channels[(route.name, cid)] = channel
    return channels
