"""The evidence database on PostgreSQL: the same migrations, the same archive behaviour."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import select

from storage import findings
from storage.archive import Archive, ItemObservation
from storage.blobs import BlobStore
from storage.db import Database
from storage.findings import FindingDraft
from storage.models import Post, Run

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_migrations_and_the_archive_work_on_postgresql(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(postgres_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_schema()
    db.create_schema()
    assert db.schema_version() == Database.head_version()
    archive = Archive(db, BlobStore(tmp_path / "blobs"))
    archive.start_run(Run(id="r1", account_id="parks", platform="sandbox"))
    obs = ItemObservation("p1", "Parks", "Pool opens", (), T0, "h1", {"text": "Pool opens"})
    with db.session() as s:
        archive.record_items(s, "r1", "parks", "post", [obs], [], T0)
        findings.record(s, "parks", "r1", [FindingDraft("post_edited", "low", "s", "post:p1", "702.7", "fp1",
                                                        {"before": "a"})], T0)
    with db.session() as s:
        post = s.exec(select(Post)).one()
        [finding] = findings.query(s)
    assert post.posted_at == T0 and post.links == []
    assert finding.details == {"before": "a"} and finding.first_seen_at == T0
    assert "password" not in db.describe()
