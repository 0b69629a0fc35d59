"""Legal holds: while one is active, nothing of its account is disposed of."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from agent.errors import CivicwatchError
from storage.models import LegalHold


class HoldError(CivicwatchError):
    code = "hold"


def add(session: Session, account_id: str, case: str, by: str, reason: str, now: datetime) -> LegalHold:
    hold = LegalHold(account_id=account_id, case=case, reason=reason, created_by=by, created_at=now)
    session.add(hold)
    session.flush()
    return hold


def release(session: Session, hold_id: int, by: str, now: datetime) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise HoldError(f"no legal hold with id {hold_id}")
    if hold.released_at is not None:
        raise HoldError(f"legal hold {hold_id} was already released by {hold.released_by}")
    hold.released_by, hold.released_at = by, now
    session.add(hold)
    return hold


def active(session: Session, account_id: str | None = None) -> list[LegalHold]:
    stmt = select(LegalHold).where(col(LegalHold.released_at).is_(None))
    if account_id is not None:
        stmt = stmt.where(LegalHold.account_id == account_id)
    return list(session.exec(stmt.order_by(col(LegalHold.id))).all())


def every(session: Session) -> list[LegalHold]:
    return list(session.exec(select(LegalHold).order_by(col(LegalHold.id))).all())
