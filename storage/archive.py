"""Writing runs, captures, artifacts, posts, comments and profiles into the archive.

Order matters for "nothing lost, nothing dangling": blobs are made durable first
(:meth:`Archive.put_blob`), then one transaction records the run's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from storage.blobs import BlobStore, StoredBlob
from storage.clock import utcnow
from storage.db import Database, dialect_insert
from storage.models import Artifact, Blob, Capture, Comment, ItemVersion, Post, ProfileVersion, Run

ItemType = Literal["post", "comment"]


@dataclass(frozen=True)
class ArtifactInput:
    kind: str
    media_type: str
    sha256: str
    size: int
    url: str | None = None


@dataclass(frozen=True)
class CaptureInput:
    view: str
    url: str
    final_url: str | None
    artifacts: Sequence[ArtifactInput]


@dataclass(frozen=True)
class ItemObservation:
    """A post or comment as seen in this run, in storage's own terms."""

    platform_id: str
    author: str
    text: str
    links: tuple[str, ...]
    posted_at: datetime | None
    content_hash: str
    content: dict[str, Any]
    publisher: str | None = None
    visitor: bool = False
    parent_id: str | None = None


@dataclass(frozen=True)
class ProfileInput:
    name: str
    bio: str
    links: tuple[str, ...]
    avatar_sha256: str | None
    content_hash: str


@dataclass
class ItemChanges:
    """What recording a run's items changed, by platform id."""

    new: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KnownItem:
    """History of one item, as detection needs it."""

    platform_id: str
    content_hash: str
    posted_at: datetime | None
    gone: bool
    author: str
    text: str
    parent_id: str | None = None


class Archive:
    """The database and the blob store together, with evidence-safe write order."""

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    # -- runs --------------------------------------------------------------------------

    def start_run(self, run: Run) -> None:
        """Record that a run began (so a crash leaves a trace)."""
        with self.db.session() as session:
            session.add(run)

    def finish_run(self, run_id: str, **values: Any) -> Run:
        """Set a run's final status and facts, in a transaction of its own."""
        with self.db.session() as session:
            return self.complete_run(session, run_id, **values)

    @staticmethod
    def complete_run(session: Session, run_id: str, **values: Any) -> Run:
        """Set a run's final status and facts inside the caller's transaction."""
        run = session.get(Run, run_id)
        if run is None:
            raise KeyError(f"no run {run_id}")
        for key, value in values.items():
            setattr(run, key, value)
        run.finished_at = run.finished_at or utcnow()
        session.add(run)
        return run

    # -- blobs and captures --------------------------------------------------------------

    def put_blob(self, data: bytes, media_type: str) -> StoredBlob:
        """Write bytes durably, then their Blob row."""
        stored = self.blobs.put(data)
        with self.db.session() as session:  # two runs may store the same bytes at the same moment
            row = Blob(sha256=stored.sha256, size=stored.size, media_type=media_type)
            insert = dialect_insert(session)
            session.execute(insert(Blob.__table__).values(**row.model_dump()).on_conflict_do_nothing())  # type: ignore[attr-defined]
        return stored

    def record_captures(self, session: Session, run_id: str, captures: Iterable[CaptureInput]) -> None:
        """Capture and artifact rows (their blobs must already be stored)."""
        for cap in captures:
            row = Capture(run_id=run_id, view=cap.view, url=cap.url, final_url=cap.final_url)
            session.add(row)
            session.flush()
            assert row.id is not None
            for art in cap.artifacts:
                session.add(
                    Artifact(
                        run_id=run_id,
                        capture_id=row.id,
                        kind=art.kind,
                        sha256=art.sha256,
                        size=art.size,
                        media_type=art.media_type,
                        url=art.url,
                    )
                )

    # -- posts, comments, profile -------------------------------------------------------

    def known_items(self, account_id: str, item_type: ItemType) -> dict[str, KnownItem]:
        """Every post or comment of an account ever recorded, by platform id."""
        model = Post if item_type == "post" else Comment
        with self.db.session() as session:
            rows = session.exec(select(model).where(model.account_id == account_id)).all()
        return {
            r.platform_id: KnownItem(
                platform_id=r.platform_id,
                content_hash=r.content_hash,
                posted_at=r.posted_at,
                gone=r.gone_at is not None,
                author=r.author,
                text=r.text,
                parent_id=getattr(r, "post_platform_id", None),
            )
            for r in rows
        }

    def record_items(
        self,
        session: Session,
        run_id: str,
        account_id: str,
        item_type: ItemType,
        seen: Sequence[ItemObservation],
        gone: Sequence[str],
        seen_at: datetime,
    ) -> ItemChanges:
        """Upsert what was seen (a new version when content changed); mark ``gone`` ones."""
        model = Post if item_type == "post" else Comment
        ids = [o.platform_id for o in seen] + list(gone)
        existing = {
            r.platform_id: r
            for r in session.exec(
                select(model).where(model.account_id == account_id, col(model.platform_id).in_(ids))
            ).all()
        } if ids else {}
        changes = ItemChanges()
        for obs in seen:
            row = existing.get(obs.platform_id)
            if row is None:
                row = self._new_item(model, run_id, account_id, obs, seen_at)
                session.add(row)
                session.flush()
                changes.new.append(obs.platform_id)
                self._add_version(session, item_type, row, obs, run_id, seen_at)
                continue
            if row.gone_at is not None:
                row.gone_at, row.gone_run = None, None
                changes.returned.append(obs.platform_id)
            if row.content_hash != obs.content_hash:
                row.version_count += 1
                _apply(row, obs)
                self._add_version(session, item_type, row, obs, run_id, seen_at)
                changes.edited.append(obs.platform_id)
            row.last_seen_run, row.last_seen_at = run_id, seen_at
            session.add(row)
        for platform_id in gone:
            row = existing.get(platform_id)
            if row is not None and row.gone_at is None:
                row.gone_at, row.gone_run = seen_at, run_id
                session.add(row)
                changes.gone.append(platform_id)
        return changes

    @staticmethod
    def _new_item(
        model: type[Post] | type[Comment],
        run_id: str,
        account_id: str,
        obs: ItemObservation,
        seen_at: datetime,
    ) -> Post | Comment:
        common: dict[str, Any] = {
            "account_id": account_id,
            "platform_id": obs.platform_id,
            "first_seen_run": run_id,
            "last_seen_run": run_id,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
            "content_hash": obs.content_hash,
        }
        row = model(**common, post_platform_id=obs.parent_id or "") if model is Comment else model(**common)
        _apply(row, obs)
        return row

    @staticmethod
    def _add_version(
        session: Session,
        item_type: ItemType,
        row: Post | Comment,
        obs: ItemObservation,
        run_id: str,
        seen_at: datetime,
    ) -> None:
        assert row.id is not None
        session.add(
            ItemVersion(
                item_type=item_type,
                item_id=row.id,
                version=row.version_count,
                content_hash=obs.content_hash,
                content=obs.content,
                run_id=run_id,
                seen_at=seen_at,
            )
        )

    def last_profile(self, account_id: str) -> ProfileVersion | None:
        """The most recent recorded profile of an account."""
        with self.db.session() as session:
            return session.exec(_latest_profile(account_id)).first()

    def record_profile(
        self, session: Session, run_id: str, account_id: str, profile: ProfileInput, seen_at: datetime
    ) -> bool:
        """Store the profile when it differs from the last one; True when it was new."""
        last = session.exec(_latest_profile(account_id)).first()
        if last is not None and last.content_hash == profile.content_hash:
            return False
        session.add(
            ProfileVersion(
                account_id=account_id,
                run_id=run_id,
                name=profile.name,
                bio=profile.bio,
                links=list(profile.links),
                avatar_sha256=profile.avatar_sha256,
                content_hash=profile.content_hash,
                seen_at=seen_at,
            )
        )
        return True


def _latest_profile(account_id: str) -> Any:
    return (
        select(ProfileVersion)
        .where(ProfileVersion.account_id == account_id)
        .order_by(col(ProfileVersion.id).desc())
        .limit(1)
    )


def _apply(row: Post | Comment, obs: ItemObservation) -> None:
    row.author = obs.author
    row.text = obs.text
    row.links = list(obs.links)
    row.posted_at = obs.posted_at
    row.content_hash = obs.content_hash
    if isinstance(row, Post):
        row.publisher = obs.publisher
        row.visitor = obs.visitor
