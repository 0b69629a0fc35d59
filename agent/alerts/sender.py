"""Delivering the outbox: claim, send, mark; back off on failure; never lose, rarely repeat."""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.alerts.alerter import backoff
from agent.alerts.channels import Attachment, Channel
from agent.errors import IntegrityError
from agent.settings import AlertSettings
from storage.blobs import BlobStore
from storage.clock import utcnow
from storage.models import Notification
from storage.outbox import Outbox

log = logging.getLogger(__name__)
#: a row still "sending" after this long belongs to a sender that died
STALE_CLAIM = timedelta(minutes=5)
_CROP_PADDING = 24
_CROP_MAX_HEIGHT = 2400


@dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: DeliveryStats) -> DeliveryStats:
        self.sent += other.sent
        self.failed += other.failed
        self.gave_up += other.gave_up
        self.dropped += other.dropped
        self.errors += other.errors
        return self


class Sender:
    """Delivers due outbox rows over their channels."""

    def __init__(
        self,
        outbox: Outbox,
        blobs: BlobStore,
        settings: AlertSettings,
        channels: dict[tuple[str, str], Channel],
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.5),
    ) -> None:
        self.outbox = outbox
        self.blobs = blobs
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.jitter = jitter

    def deliver_due(self, limit: int = 200) -> DeliveryStats:
        """One pass over the due rows. A channel that fails is not tried again in this pass."""
        stats = DeliveryStats()
        now = self.clock()
        self.outbox.requeue_stale(now - STALE_CLAIM)
        failing: set[str] = set()
        for row in self.outbox.due(now, limit):
            assert row.id is not None
            if row.channel in failing:
                continue
            channel = self.channels.get((row.route, row.channel))
            if channel is None or not channel.usable:
                reason = "channel no longer configured" if channel is None else f"channel disabled: {channel.problem}"
                self.outbox.drop(row.id, reason)
                stats.dropped += 1
                continue
            if not self.outbox.claim(row.id, now):
                continue
            error, ms = channel.send(row.subject, row.body, self._attachment(row))
            if error is None:
                self.outbox.mark_sent(row.id, self.clock(), channel.label, ms)
                stats.sent += 1
                continue
            failing.add(row.channel)
            stats.errors.append(f"{channel.label}: {error}")
            retry_at = self._retry_at(row, now)
            self.outbox.mark_failed(row.id, self.clock(), channel.label, error, ms, retry_at)
            if retry_at is None:
                stats.gave_up += 1
                log.error("gave up delivering alert %s over %s: %s", row.id, channel.label, error)
            else:
                stats.failed += 1
                log.warning("alert %s over %s failed (%s); retrying at %s", row.id, channel.label, error,
                            retry_at.isoformat(timespec="seconds"))
        return stats

    def _retry_at(self, row: Notification, now: datetime) -> datetime | None:
        if now - row.created_at >= self.settings.give_up_after:
            return None
        delay = backoff(row.attempts + 1, self.settings.retry_initial, self.settings.retry_max, self.jitter())
        return now + delay

    def _attachment(self, row: Notification) -> Attachment | None:
        if row.attachment_sha256 is None:
            return None
        try:
            data = self.blobs.get(row.attachment_sha256)
        except IntegrityError as exc:
            log.warning("alert %s: screenshot not attached: %s", row.id, exc)
            return None
        if row.attachment_box:
            data = crop_png(data, row.attachment_box)
        return Attachment(data, f"civicwatch-finding-{row.finding_id or row.id}.png", "image/png")


def crop_png(png: bytes, box: list[int]) -> bytes:
    """The part of a screenshot around ``box`` (x, y, w, h), with a margin; PNG bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        x, y, w, h = box
        left, top = max(0, x - _CROP_PADDING), max(0, y - _CROP_PADDING)
        right = min(image.width, x + w + _CROP_PADDING)
        bottom = min(image.height, y + h + _CROP_PADDING, top + _CROP_MAX_HEIGHT)
        if right <= left or bottom <= top:
            return png
        out = io.BytesIO()
        image.crop((left, top, right, bottom)).save(out, format="PNG", optimize=True)
        return out.getvalue()
