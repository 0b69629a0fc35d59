"""The audit log: append-only and hash-chained, so a removed or altered entry is detectable.

Each entry's hash covers its fields and the previous entry's hash. ``prev_hash`` is unique:
two writers racing for the same predecessor cannot both succeed; the loser retries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError as SQLIntegrityError
from sqlmodel import Session, col, select

from agent.errors import StorageError
from storage.clock import utcnow
from storage.db import Database
from storage.models import AuditEntry

GENESIS = "0" * 64


def entry_hash(seq: int, at: datetime, actor: str, action: str, target: str,
               details: Mapping[str, Any], prev_hash: str) -> str:
    """The hash an entry must carry; pure."""
    body = {"seq": seq, "at": at.isoformat(), "actor": actor, "action": action, "target": target,
            "details": details, "prev_hash": prev_hash}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _append_once(session: Session, actor: str, action: str, target: str, details: Mapping[str, Any],
                 now: datetime) -> AuditEntry:
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    clean = json.loads(json.dumps(dict(details), default=str))
    row = AuditEntry(seq=seq, at=now, actor=actor, action=action, target=target, details=clean, prev_hash=prev,
                     hash=entry_hash(seq, now, actor, action, target, clean, prev))
    session.add(row)
    session.flush()
    return row


def append(db: Database, actor: str, action: str, target: str = "",
           details: Mapping[str, Any] | None = None) -> AuditEntry:
    """Add an entry in its own transaction, retrying if another writer took the same place."""
    for _ in range(5):
        try:
            with db.session() as session:
                return _append_once(session, actor, action, target, details or {}, utcnow())
        except StorageError as exc:
            if not isinstance(exc.__cause__, SQLIntegrityError):
                raise
    raise StorageError("could not append to the audit log (too much contention)")


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify(session: Session) -> list[ChainProblem]:
    """Every entry's hash recomputed, and the links between entries checked."""
    problems = []
    expected_prev, expected_seq = GENESIS, 1
    for row in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all():
        if row.seq != expected_seq:
            problems.append(ChainProblem(row.seq, f"entries {expected_seq}…{row.seq - 1} are missing"))
        if row.prev_hash != expected_prev:
            problems.append(ChainProblem(row.seq, "does not follow the previous entry (removed or reordered)"))
        if entry_hash(row.seq, row.at, row.actor, row.action, row.target, row.details, row.prev_hash) != row.hash:
            problems.append(ChainProblem(row.seq, "its content was altered after it was written"))
        expected_prev, expected_seq = row.hash, row.seq + 1
    return problems
