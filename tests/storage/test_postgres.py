"""The evidence database on PostgreSQL: the same migrations, the same archive behaviour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import select

from storage import findings, links
from storage.archive import Archive, ItemObservation
from storage.blobs import BlobStore
from storage.db import Database
from storage.findings import FindingDraft
from storage.models import Finding, LinkCheck, Post, Run
from storage.search import Query, search

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
    assert archive.put_blob(b"seal", "image/png").sha256 == archive.put_blob(b"seal", "image/png").sha256
    with db.session() as s:
        assert s.exec(text("SELECT count(*) FROM blob")).one()[0] == 1


def test_search_on_postgresql_finds_stems_and_only_starred_prefixes(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(postgres_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_schema()
    archive = Archive(db, BlobStore(tmp_path / "blobs"))
    archive.start_run(Run(id="r1", account_id="parks", platform="sandbox"))
    texts = {"p1": "Permit applications open", "p2": "Pool closed", "p3": "The poolside cafe opens"}
    seen = [ItemObservation(pid, "Parks", t, (), T0, f"h-{pid}", {"text": t}) for pid, t in texts.items()]
    with db.session() as s:
        archive.record_items(s, "r1", "parks", "post", seen, [], T0)

    def found(words: str) -> set[str]:
        return {h.platform_id for h in search(db, Query(words=words))}

    assert found("permits") == {"p1"}
    assert found("pool") == {"p2"}
    assert found("pool*") == {"p2", "p3"}
    assert found('pool" | !cafe (') == set()  # operators are separators, never tsquery syntax
    with db.session() as s:
        s.add(Finding(fingerprint="f1", account_id="parks", kind="personal_data", severity="high", summary="x",
                      subject="post:p3", clause="4.2", evidence_run_id="r1", last_run_id="r1"))
    assert {h.platform_id for h in search(db, Query(words="opens", finding_kind="personal_data"))} == {"p3"}
    with db.engine.connect() as conn:
        indexes = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_post_fts'")).scalar_one()
    assert "'english'" in indexes  # the query's expression is the index's, so the index is used


def test_link_checks_are_upserted_on_postgresql(postgres_url: str) -> None:
    db = Database(postgres_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_schema()
    url = "https://springfield.gov/agenda"

    def save(status: str, at: datetime) -> None:
        with db.session() as s:
            links.save_checks(s, [LinkCheck(url_hash=links.url_hash(url), url=url, status=status, checked_at=at)])

    save("ok", T0)
    save("broken", T0 + timedelta(hours=1))
    save("ok", T0 - timedelta(hours=1))  # older than what is stored: ignored
    with db.session() as s:
        row = s.get(LinkCheck, links.url_hash(url))
    assert row is not None and row.status == "broken"
    assert row.checked_at == T0 + timedelta(hours=1) and row.last_ok_at == T0
