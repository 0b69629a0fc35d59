"""The durable alert outbox: rows written with their finding, delivered later, exactly once.

Delivery protocol: a sender *claims* a due row (pending -> sending, committed), sends it,
then marks it sent (committed). A process killed between send and mark leaves the row
``sending``; :meth:`Outbox.requeue_stale` puts it back to ``pending``, so that one message
may be sent twice, and no message is ever lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from storage.db import Database
from storage.models import DeliveryAttempt, Notification


@dataclass(frozen=True)
class NewNotification:
    key: str
    purpose: str
    route: str
    channel: str
    channel_label: str
    subject: str
    body: str
    finding_id: int | None = None
    attachment_sha256: str | None = None
    attachment_box: list[int] | None = None


def enqueue(session: Session, items: Iterable[NewNotification], now: datetime) -> list[Notification]:
    """Add notifications inside the caller's transaction; a key already queued is skipped."""
    items = list(items)
    if not items:
        return []
    keys = [i.key for i in items]
    known = set(session.exec(select(Notification.key).where(col(Notification.key).in_(keys))).all())
    added = []
    for item in items:
        if item.key in known:
            continue
        known.add(item.key)
        row = Notification(
            key=item.key, purpose=item.purpose, finding_id=item.finding_id, route=item.route,
            channel=item.channel, channel_label=item.channel_label, subject=item.subject, body=item.body,
            attachment_sha256=item.attachment_sha256, attachment_box=item.attachment_box,
            created_at=now, next_attempt_at=now,
        )
        session.add(row)
        added.append(row)
    session.flush()  # ids now, so callers can follow the rows they queued
    return added


def already_queued(session: Session, key_prefix: str) -> bool:
    """Is any notification queued whose key starts with this prefix?"""
    stmt = select(func.count()).select_from(Notification).where(col(Notification.key).startswith(key_prefix))
    return session.exec(stmt).one() > 0


class Outbox:
    """Delivery-side operations, each in its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def due(self, now: datetime, limit: int = 100) -> list[Notification]:
        """Pending notifications whose next attempt time has come, oldest first."""
        with self.db.session() as s:
            stmt = (select(Notification)
                    .where(Notification.status == "pending", col(Notification.next_attempt_at) <= now)
                    .order_by(col(Notification.id)).limit(limit))
            return list(s.exec(stmt).all())

    def claim(self, notification_id: int, now: datetime) -> bool:
        """pending -> sending; False when another sender got there first."""
        with self.db.session() as s:
            result = s.exec(  # type: ignore[call-overload]
                update(Notification)
                .where(col(Notification.id) == notification_id, col(Notification.status) == "pending")
                .values(status="sending", claimed_at=now)
            )
            return bool(result.rowcount == 1)

    def mark_sent(self, notification_id: int, now: datetime, label: str, duration_ms: int) -> None:
        with self.db.session() as s:
            row = s.get(Notification, notification_id)
            assert row is not None
            row.status, row.sent_at, row.attempts, row.last_error = "sent", now, row.attempts + 1, None
            s.add(row)
            s.add(DeliveryAttempt(notification_id=notification_id, at=now, channel_label=label,
                                  result="sent", duration_ms=duration_ms))

    def mark_failed(
        self, notification_id: int, now: datetime, label: str, error: str, duration_ms: int,
        retry_at: datetime | None,
    ) -> None:
        """Record a failed attempt; retry at ``retry_at``, or give up (status failed) when None."""
        with self.db.session() as s:
            row = s.get(Notification, notification_id)
            assert row is not None
            row.attempts += 1
            row.last_error = error
            row.status = "pending" if retry_at is not None else "failed"
            row.next_attempt_at = retry_at or row.next_attempt_at
            s.add(row)
            s.add(DeliveryAttempt(notification_id=notification_id, at=now, channel_label=label,
                                  result="failed", error=error, duration_ms=duration_ms))

    def drop(self, notification_id: int, reason: str) -> None:
        """Give up on a message that can no longer be delivered (its channel was removed)."""
        with self.db.session() as s:
            row = s.get(Notification, notification_id)
            assert row is not None
            row.status, row.last_error = "dropped", reason
            s.add(row)

    def requeue_stale(self, claimed_before: datetime) -> int:
        """Rows left ``sending`` by a process that died: back to pending (may resend once)."""
        with self.db.session() as s:
            result = s.exec(  # type: ignore[call-overload]
                update(Notification)
                .where(col(Notification.status) == "sending", col(Notification.claimed_at) < claimed_before)
                .values(status="pending")
            )
            return int(result.rowcount)

    def make_due(self, now: datetime) -> int:
        """Every pending message due now, whatever its backoff (an operator's explicit flush)."""
        with self.db.session() as s:
            result = s.exec(  # type: ignore[call-overload]
                update(Notification).where(col(Notification.status) == "pending").values(next_attempt_at=now)
            )
            return int(result.rowcount)

    def retry_failed(self, now: datetime) -> int:
        """Give failed (given-up) messages another chance now."""
        with self.db.session() as s:
            result = s.exec(  # type: ignore[call-overload]
                update(Notification).where(col(Notification.status) == "failed")
                .values(status="pending", next_attempt_at=now)
            )
            return int(result.rowcount)

    def listing(self, statuses: Iterable[str], limit: int = 500) -> list[Notification]:
        with self.db.session() as s:
            stmt = (select(Notification).where(col(Notification.status).in_(list(statuses)))
                    .order_by(col(Notification.id)).limit(limit))
            return list(s.exec(stmt).all())

    def attempts(self, notification_id: int) -> list[DeliveryAttempt]:
        with self.db.session() as s:
            stmt = select(DeliveryAttempt).where(DeliveryAttempt.notification_id == notification_id)
            return list(s.exec(stmt.order_by(col(DeliveryAttempt.id))).all())

    def backlog(self) -> dict[str, int]:
        """Counts of notifications by status."""
        with self.db.session() as s:
            rows = s.exec(select(Notification.status, func.count()).group_by(Notification.status)).all()
        return {status: count for status, count in rows}
