"""Delivering alerts: what `check`, `alerts flush` and the daemon call."""

from __future__ import annotations

import time
from datetime import datetime

from agent.alerts.alerter import Alerter
from agent.alerts.sender import DeliveryStats, Sender
from agent.services import Services
from storage.clock import utcnow
from storage.outbox import Outbox


def make_sender(services: Services, alerter: Alerter | None = None) -> Sender:
    alerter = alerter or Alerter(services.settings, services.archive.blobs)
    return Sender(Outbox(services.db), services.archive.blobs, services.settings.alerts, alerter.channels)


def scheduled_alerts(services: Services, alerter: Alerter, now: datetime | None = None) -> int:
    """Queue what time has made due: escalations and daily digests. Returns how many rows."""
    now = now or utcnow()
    with services.db.session() as session:
        return len(alerter.escalate(session, now)) + len(alerter.digests(session, now))


def deliver_pending(services: Services, wait_seconds: float) -> DeliveryStats:
    """Deliver what is due, for at most about ``wait_seconds``; the rest stays queued."""
    sender = make_sender(services)
    deadline = time.monotonic() + wait_seconds
    total = DeliveryStats()
    while True:
        stats = sender.deliver_due()
        total += stats
        nothing_left = not sender.outbox.due(utcnow(), limit=1)
        if nothing_left or stats.sent == 0 or time.monotonic() >= deadline:
            return total
