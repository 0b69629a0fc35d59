"""Findings in the database: one row per problem, with its lifecycle.

``open`` -> ``acknowledged`` -> ``resolved`` (who, when, why). The same problem seen
on every run stays one row (``last_seen_at``, ``times_seen``). A resolved problem that
comes back is reopened: a condition when it was seen gone after the resolution and then
seen again; an event (an edit, a deletion) whenever it is detected again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from agent.errors import CivicwatchError
from storage.models import Finding, FindingEvent

Change = Literal["new", "reopened", "seen"]


class FindingNotFound(CivicwatchError):
    """No finding has that id."""

    code = "not_found"


class LifecycleError(CivicwatchError):
    """The requested status change is not allowed from the finding's current status."""

    code = "lifecycle"


@dataclass(frozen=True)
class FindingDraft:
    """A problem as a detector reports it, before it is matched to stored findings."""

    kind: str
    severity: str
    summary: str
    subject: str
    clause: str
    fingerprint: str
    details: dict[str, Any] = field(default_factory=dict)
    #: a condition that persists while present (True), or an event detected once (False)
    stateful: bool = True


@dataclass(frozen=True)
class Recorded:
    """A stored finding and what this run did to it."""

    finding: Finding
    change: Change


def record(
    session: Session,
    account_id: str,
    run_id: str,
    drafts: Sequence[FindingDraft],
    now: datetime,
) -> list[Recorded]:
    """Match drafts to stored findings by fingerprint: insert, update or reopen."""
    fingerprints = [d.fingerprint for d in drafts]
    existing = {
        f.fingerprint: f
        for f in session.exec(select(Finding).where(col(Finding.fingerprint).in_(fingerprints))).all()
    } if fingerprints else {}
    out: list[Recorded] = []
    for d in drafts:
        row = existing.get(d.fingerprint)
        if row is None:
            row = Finding(
                fingerprint=d.fingerprint, account_id=account_id, kind=d.kind, severity=d.severity,
                summary=d.summary, subject=d.subject, clause=d.clause, details=d.details,
                evidence_run_id=run_id, last_run_id=run_id, first_seen_at=now, last_seen_at=now,
            )
            session.add(row)
            session.flush()
            _event(session, row, "opened", now, run_id=run_id)
            out.append(Recorded(row, "new"))
            continue
        change: Change = "seen"
        row.streak = 1 if row.cleared_at is not None else row.streak + 1
        if row.status == "resolved" and (not d.stateful or _cleared_since_resolution(row)):
            row.status, row.reopened, row.streak = "open", row.reopened + 1, 1
            row.acknowledged_by = row.acknowledged_at = None
            row.evidence_run_id = run_id
            _event(session, row, "reopened", now, run_id=run_id)
            change = "reopened"
        row.severity, row.summary, row.details = d.severity, d.summary, d.details
        row.last_run_id, row.last_seen_at, row.times_seen = run_id, now, row.times_seen + 1
        row.cleared_at = None
        session.add(row)
        out.append(Recorded(row, change))
    return out


def _cleared_since_resolution(row: Finding) -> bool:
    return row.cleared_at is not None and row.resolved_at is not None and row.cleared_at >= row.resolved_at


def clear_unseen(
    session: Session,
    account_id: str,
    run_id: str,
    seen: Iterable[str],
    judged: Callable[[Finding], bool],
    now: datetime,
) -> list[Finding]:
    """Mark conditions this run could judge but did not see as cleared; returns them."""
    seen_set = set(seen)
    cleared = []
    rows = session.exec(
        select(Finding).where(Finding.account_id == account_id, col(Finding.cleared_at).is_(None))
    ).all()
    for row in rows:
        if row.fingerprint in seen_set or not judged(row):
            continue
        row.cleared_at = now
        session.add(row)
        _event(session, row, "cleared", now, run_id=run_id)
        cleared.append(row)
    return cleared


def acknowledge(session: Session, finding_id: int, by: str, note: str | None, now: datetime) -> Finding:
    """open -> acknowledged."""
    row = get(session, finding_id)
    if row.status != "open":
        raise LifecycleError(f"finding {finding_id} is {row.status}; only an open finding can be acknowledged")
    row.status, row.acknowledged_by, row.acknowledged_at = "acknowledged", by, now
    session.add(row)
    _event(session, row, "acknowledged", now, by=by, note=note)
    return row


def resolve(session: Session, finding_id: int, by: str, why: str, now: datetime) -> Finding:
    """open or acknowledged -> resolved, with who and why (e.g. the reason content was removed)."""
    row = get(session, finding_id)
    if row.status == "resolved":
        raise LifecycleError(f"finding {finding_id} is already resolved (by {row.resolved_by})")
    if not why.strip():
        raise LifecycleError("a resolution needs a reason")
    row.status, row.resolved_by, row.resolved_at, row.resolution = "resolved", by, now, why
    session.add(row)
    _event(session, row, "resolved", now, by=by, note=why)
    return row


def get(session: Session, finding_id: int) -> Finding:
    row = session.get(Finding, finding_id)
    if row is None:
        raise FindingNotFound(f"no finding with id {finding_id}")
    return row


def query(
    session: Session,
    account: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> list[Finding]:
    """Findings, newest first, filtered."""
    stmt = select(Finding)
    if account:
        stmt = stmt.where(Finding.account_id == account)
    if kind:
        stmt = stmt.where(Finding.kind == kind)
    if status:
        stmt = stmt.where(Finding.status == status)
    return list(session.exec(stmt.order_by(col(Finding.last_seen_at).desc(), col(Finding.id).desc()).limit(limit)).all())


def events(session: Session, finding_id: int) -> list[FindingEvent]:
    return list(session.exec(select(FindingEvent).where(FindingEvent.finding_id == finding_id)
                             .order_by(col(FindingEvent.id))).all())


def _event(session: Session, row: Finding, event: str, now: datetime, *, by: str | None = None,
           note: str | None = None, run_id: str | None = None) -> None:
    assert row.id is not None
    session.add(FindingEvent(finding_id=row.id, event=event, at=now, by=by, note=note, run_id=run_id))
