"""Deciding what to tell whom: outbox rows for findings, recoveries, escalations, digests.

Every row has a key naming what it is for (``finding:12:0:it:ab12…`` = finding 12, first
episode, route it, channel ab12…); a key is queued once, which is what makes "one alert
per new finding" hold across runs, restarts and concurrent senders.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from agent.alerts.channels import Channel, build_channels
from agent.alerts.render import FindingView, digest_message, finding_message, recovery_message, test_message
from agent.alerts.routing import matches, routes_for
from agent.detect.config import OPERATIONAL_KINDS
from agent.settings import RouteSettings, Settings
from agent.units import format_duration
from storage import findings as finding_store
from storage.blobs import BlobStore
from storage.models import Artifact, Finding, Notification, Run
from storage.outbox import NewNotification, already_queued, enqueue

log = logging.getLogger(__name__)
_FAILURE_KINDS = ("login_failed", "capture_failed")
#: how much of a page to attach for findings about the whole page (profile, structure)
_PAGE_TOP = [0, 0, 1280, 1400]


class Alerter:
    """Turns findings into outbox rows, inside the caller's transaction."""

    def __init__(self, settings: Settings, blobs: BlobStore) -> None:
        self.settings = settings
        self.alerts = settings.alerts
        self.blobs = blobs
        self.channels = build_channels(settings.alerts)
        self.tz = settings.agent.timezone

    # -- building blocks ------------------------------------------------------------------

    def view(self, f: Finding) -> FindingView:
        """What messages say about a finding (account name and department from the config)."""
        account = next((a for a in self.settings.accounts if a.id == f.account_id), None)
        return FindingView(
            id=f.id or 0, kind=f.kind, severity=f.severity, summary=f.summary, subject=f.subject,
            clause=f.clause, status=f.status, account_id=f.account_id,
            account_name=account.name if account else f.account_id,
            department=account.department if account else "", first_seen_at=f.first_seen_at,
            last_seen_at=f.last_seen_at, times_seen=f.times_seen, evidence_run_id=f.evidence_run_id,
            details=f.details,
        )

    def department(self, account_id: str) -> str:
        account = next((a for a in self.settings.accounts if a.id == account_id), None)
        return account.department if account else ""

    def route_channels(self, route: str) -> list[Channel]:
        return [c for (r, _), c in self.channels.items() if r == route and c.usable]

    def _rows(self, purpose: str, key: str, route: RouteSettings, subject: str, body: str,
              finding: Finding | None = None, session: Session | None = None) -> list[NewNotification]:
        rows = []
        image: tuple[str | None, list[int] | None] = (None, None)
        if finding is not None and session is not None and route.attach_screenshot:
            image = self.evidence_image(session, finding)
        for channel in self.route_channels(route.name):
            sha, box = image if channel.is_email else (None, None)
            rows.append(NewNotification(
                key=f"{key}:{route.name}:{channel.id}", purpose=purpose, route=route.name, channel=channel.id,
                channel_label=channel.label, subject=subject, body=body,
                finding_id=finding.id if finding else None, attachment_sha256=sha, attachment_box=box,
            ))
        return rows

    def evidence_image(self, session: Session, f: Finding) -> tuple[str | None, list[int] | None]:
        """The screenshot that shows the problem, and the box to crop from it."""
        if f.kind in _FAILURE_KINDS:
            return None, None
        if f.kind == "public_posting_enabled" and f.details.get("visitor_screenshot"):
            return f.details["visitor_screenshot"], None
        shot = session.exec(select(Artifact).where(
            Artifact.run_id == f.evidence_run_id, Artifact.kind == "screenshot")).first()
        if shot is None:
            return None, None
        return shot.sha256, self._box(session, f) or _PAGE_TOP

    def _box(self, session: Session, f: Finding) -> list[int] | None:
        kind, _, item_id = f.subject.partition(":")
        if kind not in ("post", "comment"):
            return None
        run = session.get(Run, f.evidence_run_id)
        if run is None or run.snapshot_sha256 is None or not self.blobs.exists(run.snapshot_sha256):
            return None
        snapshot = json.loads(self.blobs.get(run.snapshot_sha256))
        for post in snapshot.get("posts", []):
            if kind == "post" and post.get("id") == item_id:
                return post.get("box")
            for comment in post.get("comments", []) if kind == "comment" else []:
                if comment.get("id") == item_id:
                    return comment.get("box")
        return None

    # -- findings -------------------------------------------------------------------------

    def on_findings(
        self, session: Session, recorded: Iterable[finding_store.Recorded], consecutive_failures: int,
        now: datetime,
    ) -> list[Notification]:
        """One alert per new (or reopened) finding; operational ones only after N failures."""
        rows: list[NewNotification] = []
        for rec in recorded:
            f = rec.finding
            episode = f"finding:{f.id}:{f.reopened}"
            if f.kind in OPERATIONAL_KINDS:
                streak = consecutive_failures if f.kind in _FAILURE_KINDS else f.streak
                if streak < self.alerts.failures_before_alert or already_queued(session, episode + ":"):
                    continue
            elif rec.change == "seen":
                continue
            subject, body = finding_message(self.view(f), self.tz, self.alerts.portal_url)
            for route in routes_for(self.alerts, f.kind, f.severity, f.account_id, self.department(f.account_id)):
                rows += self._rows("finding", episode, route, subject, body, f, session)
        return enqueue(session, rows, now)

    def on_recovered(self, session: Session, resolved: Iterable[Finding], run_id: str, now: datetime) -> list[Notification]:
        """A recovery notice for operational findings whose alert went out."""
        rows: list[NewNotification] = []
        for f in resolved:
            episode = f"finding:{f.id}:{f.reopened}"
            if f.kind not in OPERATIONAL_KINDS or not already_queued(session, episode + ":"):
                continue
            subject, body = recovery_message(self.view(f), run_id, self.tz, self.alerts.portal_url)
            for route in routes_for(self.alerts, f.kind, f.severity, f.account_id, self.department(f.account_id)):
                rows += self._rows("recovery", f"recovered:{f.id}:{f.reopened}", route, subject, body)
        return enqueue(session, rows, now)

    # -- escalation and digests ------------------------------------------------------------

    def escalate(self, session: Session, now: datetime) -> list[Notification]:
        """Send open, unacknowledged findings again to escalate_to after the route's delay."""
        rows: list[NewNotification] = []
        for route in self.alerts.routes:
            target = self.alerts.route(route.escalate_to) if route.escalate_to else None
            if target is None:
                continue
            sent = session.exec(
                select(Notification, Finding).join(Finding, col(Notification.finding_id) == col(Finding.id))
                .where(Notification.route == route.name, Notification.purpose == "finding",
                       Notification.status == "sent", Finding.status == "open")
            ).all()
            for note, f in sent:
                delay = route.escalation_delay(f.severity)
                if delay is None or note.sent_at is None or now - note.sent_at < delay:
                    continue
                key = f"escalate:{f.id}:{f.reopened}:{route.name}"
                if already_queued(session, key + ":"):
                    continue
                subject, body = finding_message(self.view(f), self.tz, self.alerts.portal_url,
                                                escalated_from=route.name, waited=format_duration(delay))
                rows += self._rows("escalation", key, target, subject, body, f, session)
        return enqueue(session, rows, now)

    def digests(self, session: Session, now: datetime) -> list[Notification]:
        """Each route's daily digest, once its time of day has passed (city time)."""
        local_now = now.astimezone(ZoneInfo(self.tz))
        day = local_now.date().isoformat()
        rows: list[NewNotification] = []
        for route in self.alerts.routes:
            if route.digest is None or local_now.time() < route.digest:
                continue
            key = f"digest:{route.name}:{day}"
            if already_queued(session, key + ":"):
                continue
            open_rows = finding_store.query(session, status="open") + finding_store.query(session, status="acknowledged")
            views = [self.view(f) for f in open_rows
                     if matches(route, f.kind, f.severity, f.account_id, self.department(f.account_id))]
            subject, body = digest_message(route.name, views, day, self.tz, self.alerts.portal_url)
            rows += self._rows("digest", key, route, subject, body)
        return enqueue(session, rows, now)

    def test(self, session: Session, routes: Sequence[RouteSettings], now: datetime) -> list[Notification]:
        """A test message on every channel of these routes."""
        rows: list[NewNotification] = []
        for route in routes:
            subject, body = test_message(route.name, now, self.tz)
            rows += self._rows("test", f"test:{route.name}:{now.isoformat()}", route, subject, body)
        return enqueue(session, rows, now)


def consecutive_failures(session: Session, account_id: str, limit: int = 50) -> int:
    """How many of the account's latest finished runs failed in a row."""
    statuses = session.exec(
        select(Run.status).where(Run.account_id == account_id, col(Run.status).in_(["ok", "failed"]))
        .order_by(col(Run.started_at).desc()).limit(limit)
    ).all()
    count = 0
    for status in statuses:
        if status != "failed":
            break
        count += 1
    return count


def backoff(attempts: int, initial: timedelta, maximum: timedelta, jitter: float) -> timedelta:
    """Exponential backoff with jitter: initial * 2^(attempts-1), capped, times jitter; pure.

    ``jitter`` is a factor in [0.5, 1.5) drawn by the caller.
    """
    base = initial * (2 ** max(0, attempts - 1))
    return min(base, maximum) * jitter
