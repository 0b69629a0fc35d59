"""After a crash (kill -9, power loss): put the archive back in a consistent state."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from storage.archive import Archive
from storage.models import Artifact, Run


@dataclass
class Recovery:
    interrupted: list[str] = field(default_factory=list)
    temp_files: int = 0
    missing_blobs: list[str] = field(default_factory=list)
    #: runs another process is still doing (left as they are)
    live: list[str] = field(default_factory=list)


def recover(archive: Archive, now: datetime, running_elsewhere: Callable[[str], bool]) -> Recovery:
    """Mark runs left ``running`` as interrupted, delete orphan temp files, check their blobs.

    ``running_elsewhere(account_id)`` says whether another process (``civicwatch check``) is
    capturing that account right now: its runs, its scratch files and, while it runs, the
    blob store's temporary files are left alone.
    """
    result = Recovery()
    with archive.db.session() as s:
        left = s.exec(select(Run.id, Run.account_id).where(Run.status == "running")).all()
        live = {run_id for run_id, account_id in left if running_elsewhere(account_id)}
        result.interrupted = [run_id for run_id, _ in left if run_id not in live]
        if result.interrupted:
            s.exec(  # type: ignore[call-overload]
                update(Run).where(col(Run.id).in_(result.interrupted))
                .values(status="interrupted", finished_at=now,
                        error="the process stopped during this run (crash, kill or power loss)")
            )
        shas = s.exec(select(Artifact.sha256).where(col(Artifact.run_id).in_(result.interrupted))).all() \
            if result.interrupted else []
    result.live = sorted(live)
    if not live:
        result.temp_files = archive.blobs.remove_temp_files()
    work = archive.blobs.root.parent / "work"
    if work.exists():
        for leftover in work.iterdir():
            if leftover.name not in live:
                shutil.rmtree(leftover, ignore_errors=True)
                result.temp_files += 1
    result.missing_blobs = [sha for sha in set(shas) if not archive.blobs.exists(sha)]
    return result
