"""Records retention: which accounts' records are past their retention, and disposing of them.

Every disposition is written to the audit log with what was deleted (ids, hashes) and why.
An account with an active legal hold is skipped entirely.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import select

from agent.services import Services
from agent.units import format_duration
from storage import audit, holds, manifest
from storage.models import Run
from storage.retention import Disposition, dispose

log = logging.getLogger(__name__)


def run_disposition(services: Services, now: datetime, dry_run: bool = False,
                    actor: str = "civicwatch (retention)") -> list[Disposition]:
    """Dispose of every account's records past retention; returns what was (or would be) deleted."""
    settings = services.settings
    configured = {a.id: a for a in settings.accounts}
    with services.db.session() as s:
        in_archive = set(s.exec(select(Run.account_id).distinct()).all())
        held = {h.account_id for h in holds.active(s)}
    results = []
    for account_id in sorted(in_archive | set(configured)):
        account = configured.get(account_id)
        retain = settings.retention.for_account(account) if account else settings.retention.default
        if retain == "permanent":
            continue
        if account_id in held:
            log.info("retention: %s is on legal hold; nothing disposed of", account_id)
            continue
        result = dispose(services.archive, account_id, now - retain, dry_run=dry_run)
        results.append(result)
        if not dry_run and not result.empty:
            why = f"past the retention period of {format_duration(retain)}; no legal hold"
            entry = audit.append(services.db, actor, "disposition", account_id, {**result.summary(), "why": why})
            with services.db.session() as s:
                manifest.mark_disposed(s, result.runs, entry.seq, now)
            log.info("retention: %s: deleted %d runs, %d findings, %d posts, %d comments, %d blobs", account_id,
                     len(result.runs), len(result.findings), len(result.posts), len(result.comments),
                     len(result.blobs))
    return results
