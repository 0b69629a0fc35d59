"""Manifests and their per-account hash chains, in the database.

A manifest's body is canonical JSON; its sha256 is its identity; each body names the
previous manifest's hash (``prev``), starting from a per-account genesis value. Bodies and
signatures are stored exactly as made: verification re-hashes the stored bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Manifest

FORMAT = 1


def genesis(account_id: str) -> str:
    """The ``prev`` of an account's first manifest; pure."""
    return hashlib.sha256(f"civicwatch-chain-genesis:{account_id}".encode()).hexdigest()


def canonical(body: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8; pure."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def append(
    session: Session,
    account_id: str,
    run_id: str,
    body: dict[str, Any],
    sign: Callable[[bytes], bytes],
    key_fingerprint: str,
    now: datetime,
    timestamp_wanted: bool,
) -> Manifest:
    """Seal ``body`` as the account's next manifest (inside the caller's transaction)."""
    last = session.exec(select(Manifest).where(Manifest.account_id == account_id)
                        .order_by(col(Manifest.seq).desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.sha256) if last else (1, genesis(account_id))
    full = {**body, "civicwatch_manifest": FORMAT, "account": account_id, "seq": seq, "prev": prev,
            "sealed_at": now.isoformat(), "key": key_fingerprint}
    data = canonical(full)
    row = Manifest(
        account_id=account_id, seq=seq, run_id=run_id, created_at=now, body=data.decode("utf-8"),
        sha256=hashlib.sha256(data).hexdigest(), prev_hash=prev,
        signature=base64.b64encode(sign(data)).decode(), key_fingerprint=key_fingerprint,
        tsa_status="pending" if timestamp_wanted else "none",
    )
    session.add(row)
    session.flush()
    return row


def chain(session: Session, account_id: str) -> list[Manifest]:
    """An account's manifests in chain order."""
    return list(session.exec(select(Manifest).where(Manifest.account_id == account_id)
                             .order_by(col(Manifest.seq))).all())


def accounts(session: Session) -> list[str]:
    return sorted(set(session.exec(select(Manifest.account_id)).all()))


def mark_disposed(session: Session, run_ids: Iterable[str], audit_seq: int, now: datetime) -> int:
    """Note that these runs' records were disposed of under retention (audit entry ``audit_seq``)."""
    rows = session.exec(select(Manifest).where(col(Manifest.run_id).in_(list(run_ids)))).all()
    for row in rows:
        row.disposed_at, row.disposed_audit = now, audit_seq
        session.add(row)
    return len(rows)
