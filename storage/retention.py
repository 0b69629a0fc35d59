"""Disposition: delete what is past retention, and nothing that is still needed.

For one account and a cutoff time, in one transaction:

1. resolved findings resolved before the cutoff (with their history and alerts);
2. posts and comments gone before the cutoff, with all their versions; and versions of
   other items superseded before the cutoff (the current version always stays);
3. profile versions superseded before the cutoff (the current one stays);
4. runs finished before the cutoff that nothing remaining refers to (a finding's evidence,
   a kept version, the account's latest good capture), with their captures and artifacts.

Then, after the commit, blob files no row refers to any more. A crash in between leaves
unreferenced files, never a row pointing at a missing file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.archive import Archive
from storage.models import (
    Artifact,
    Blob,
    Capture,
    Comment,
    DeliveryAttempt,
    Finding,
    FindingEvent,
    ItemVersion,
    Notification,
    Post,
    ProfileVersion,
    Run,
)


@dataclass
class Disposition:
    """What a disposition deleted (ids and hashes, for the audit log)."""

    account_id: str
    cutoff: datetime
    findings: list[int] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    versions: int = 0
    #: (item type, platform id, version) of each superseded version deleted
    version_ids: list[tuple[str, str, int]] = field(default_factory=list)
    profiles: int = 0
    runs: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.findings or self.posts or self.comments or self.versions or self.profiles
                    or self.runs or self.blobs)

    def summary(self) -> dict[str, Any]:
        return {"account": self.account_id, "cutoff": self.cutoff.isoformat(), "findings": self.findings,
                "posts": self.posts, "comments": self.comments, "versions": self.versions,
                "version_ids": [list(v) for v in self.version_ids],
                "profile_versions": self.profiles, "runs": self.runs, "blobs": self.blobs}


def _findings(s: Session, account: str, cutoff: datetime, out: Disposition) -> None:
    rows = s.exec(select(Finding).where(Finding.account_id == account, Finding.status == "resolved",
                                        col(Finding.resolved_at) < cutoff)).all()
    ids = [f.id for f in rows if f.id is not None]
    if not ids:
        return
    notes = list(s.exec(select(Notification.id).where(col(Notification.finding_id).in_(ids))).all())
    if notes:
        s.exec(delete(DeliveryAttempt).where(col(DeliveryAttempt.notification_id).in_(notes)))  # type: ignore[call-overload]
        s.exec(delete(Notification).where(col(Notification.id).in_(notes)))  # type: ignore[call-overload]
    s.exec(delete(FindingEvent).where(col(FindingEvent.finding_id).in_(ids)))  # type: ignore[call-overload]
    s.exec(delete(Finding).where(col(Finding.id).in_(ids)))  # type: ignore[call-overload]
    out.findings = ids


def _items(s: Session, account: str, cutoff: datetime, out: Disposition) -> None:
    for model, item_type, bucket in ((Post, "post", out.posts), (Comment, "comment", out.comments)):
        gone = s.exec(select(model).where(model.account_id == account, col(model.gone_at) < cutoff)).all()
        gone_ids = [r.id for r in gone if r.id is not None]
        if gone_ids:
            s.exec(delete(ItemVersion).where(ItemVersion.item_type == item_type,  # type: ignore[call-overload]
                                             col(ItemVersion.item_id).in_(gone_ids)))
            s.exec(delete(model).where(col(model.id).in_(gone_ids)))  # type: ignore[call-overload]
            bucket.extend(r.platform_id for r in gone)
        live_rows = s.exec(select(model).where(model.account_id == account)).all()
        live = [r.id for r in live_rows]
        platform_ids = {r.id: r.platform_id for r in live_rows}
        versions: dict[int, list[ItemVersion]] = defaultdict(list)
        for v in s.exec(select(ItemVersion).where(ItemVersion.item_type == item_type,
                                                  col(ItemVersion.item_id).in_(live))
                        .order_by(col(ItemVersion.version))).all():
            versions[v.item_id].append(v)
        for history in versions.values():
            for older, newer in zip(history, history[1:], strict=False):
                if newer.seen_at < cutoff:  # superseded before the cutoff
                    s.delete(older)
                    out.versions += 1
                    out.version_ids.append((item_type, platform_ids[older.item_id], older.version))


def _profiles(s: Session, account: str, cutoff: datetime, out: Disposition) -> None:
    history = s.exec(select(ProfileVersion).where(ProfileVersion.account_id == account)
                     .order_by(col(ProfileVersion.id))).all()
    for older, newer in zip(history, history[1:], strict=False):
        if newer.seen_at < cutoff:
            s.delete(older)
            out.profiles += 1


def _runs(s: Session, account: str, cutoff: datetime, out: Disposition) -> None:
    s.flush()
    needed = set(s.exec(select(Finding.evidence_run_id).where(Finding.account_id == account)).all())
    needed |= set(s.exec(select(Finding.last_run_id).where(Finding.account_id == account)).all())
    needed |= set(s.exec(select(ItemVersion.run_id)).all())
    needed |= set(s.exec(select(ProfileVersion.run_id).where(ProfileVersion.account_id == account)).all())
    latest_ok = s.exec(select(Run.id).where(Run.account_id == account, Run.status == "ok")
                       .order_by(col(Run.started_at).desc()).limit(1)).first()
    needed.add(latest_ok or "")
    old = s.exec(select(Run.id).where(Run.account_id == account, col(Run.started_at) < cutoff,
                                      col(Run.status) != "running")).all()
    doomed = [r for r in old if r not in needed]
    if not doomed:
        return
    s.exec(delete(Artifact).where(col(Artifact.run_id).in_(doomed)))  # type: ignore[call-overload]
    s.exec(delete(Capture).where(col(Capture.run_id).in_(doomed)))  # type: ignore[call-overload]
    s.exec(delete(Run).where(col(Run.id).in_(doomed)))  # type: ignore[call-overload]
    out.runs = doomed


def _orphan_blobs(s: Session) -> list[str]:
    referenced = set(s.exec(select(Artifact.sha256)).all())
    referenced |= {sha for sha in s.exec(select(Notification.attachment_sha256)).all() if sha}
    referenced |= {sha for sha in s.exec(select(ProfileVersion.avatar_sha256)).all() if sha}
    orphans = [sha for sha in s.exec(select(Blob.sha256)).all() if sha not in referenced]
    if orphans:
        s.exec(delete(Blob).where(col(Blob.sha256).in_(orphans)))  # type: ignore[call-overload]
    return orphans


def dispose(archive: Archive, account_id: str, cutoff: datetime, dry_run: bool = False) -> Disposition:
    """Delete the account's records past the cutoff (see the module docstring)."""
    out = Disposition(account_id, cutoff)
    session_cm = archive.db.session()
    with session_cm as s:
        _findings(s, account_id, cutoff, out)
        _items(s, account_id, cutoff, out)
        _profiles(s, account_id, cutoff, out)
        _runs(s, account_id, cutoff, out)
        s.flush()
        out.blobs = _orphan_blobs(s)
        if dry_run:
            s.rollback()
            return out
    for sha in out.blobs:
        archive.blobs.remove(sha)
    return out
