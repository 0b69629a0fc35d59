"""Recording posts and comments: one row per platform id, a version per distinct content."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from agent.errors import StorageError
from storage.archive import Archive, ItemObservation
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Blob, ItemVersion, Post, Run

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.create_schema()
    return Archive(db, BlobStore(tmp_path / "blobs"))


def obs(pid: str, text: str) -> ItemObservation:
    return ItemObservation(platform_id=pid, author="Parks", text=text, links=(), posted_at=T0,
                           content_hash=f"h-{text}", content={"text": text})


def record(archive: Archive, run_id: str, seen: list[ItemObservation], gone: list[str] = []) -> object:
    archive.start_run(Run(id=run_id, account_id="parks", platform="sandbox"))
    with archive.db.session() as session:
        return archive.record_items(session, run_id, "parks", "post", seen, gone, T0)


def test_a_rerun_on_unchanged_content_adds_no_rows(archive: Archive) -> None:
    first = record(archive, "r1", [obs("p1", "a"), obs("p2", "b")])
    second = record(archive, "r2", [obs("p1", "a"), obs("p2", "b")])
    assert first.new == ["p1", "p2"] and second.new == [] and second.edited == []  # type: ignore[attr-defined]
    with archive.db.session() as s:
        assert len(s.exec(select(Post)).all()) == 2
        assert len(s.exec(select(ItemVersion)).all()) == 2
        assert {p.last_seen_run for p in s.exec(select(Post))} == {"r2"}


def test_an_edit_adds_a_version_and_keeps_the_old_one(archive: Archive) -> None:
    record(archive, "r1", [obs("p1", "before")])
    changes = record(archive, "r2", [obs("p1", "after")])
    assert changes.edited == ["p1"]  # type: ignore[attr-defined]
    with archive.db.session() as s:
        post = s.exec(select(Post)).one()
        versions = s.exec(select(ItemVersion).order_by(ItemVersion.version)).all()
    assert post.text == "after" and post.version_count == 2
    assert [v.content["text"] for v in versions] == ["before", "after"]


def test_gone_items_are_marked_not_deleted_and_can_return(archive: Archive) -> None:
    record(archive, "r1", [obs("p1", "a")])
    gone = record(archive, "r2", [], gone=["p1"])
    back = record(archive, "r3", [obs("p1", "a")])
    assert gone.gone == ["p1"] and back.returned == ["p1"]  # type: ignore[attr-defined]
    with archive.db.session() as s:
        post = s.exec(select(Post)).one()
    assert post.gone_at is None and post.text == "a"


def test_times_come_back_as_utc(archive: Archive) -> None:
    record(archive, "r1", [obs("p1", "a")])
    with archive.db.session() as s:
        post = s.exec(select(Post)).one()
    assert post.posted_at == T0 and post.posted_at.tzinfo is UTC


def test_runs_storing_the_same_bytes_at_once_all_succeed(archive: Archive) -> None:
    # two accounts with the same avatar, captured at the same moment
    barrier, errors = threading.Barrier(6), []

    def put() -> None:
        barrier.wait()
        try:
            archive.put_blob(b"the city seal", "image/png")
        except StorageError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with archive.db.session() as s:
        [blob] = s.exec(select(Blob)).all()
    assert blob.size == len(b"the city seal") and blob.media_type == "image/png" and blob.created_at is not None
