"""Read-side queries shared by the daemon, `status`, health and the portal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_
from sqlmodel import Session, func, select

from storage.models import Run


def latest_runs(session: Session) -> dict[str, Run]:
    """Each account's most recently started run."""
    newest = (select(Run.account_id, func.max(Run.started_at).label("started"))
              .group_by(Run.account_id).subquery())
    stmt = select(Run).join(newest, and_(Run.account_id == newest.c.account_id, Run.started_at == newest.c.started))
    return {run.account_id: run for run in session.exec(stmt).all()}


def last_success(session: Session) -> dict[str, datetime]:
    """When each account last finished a successful run."""
    stmt = select(Run.account_id, func.max(Run.finished_at)).where(Run.status == "ok").group_by(Run.account_id)
    return {account: finished for account, finished in session.exec(stmt).all() if finished is not None}
