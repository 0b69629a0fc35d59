"""Full-text search: words match their stems, a prefix only where the clerk writes ``*``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.archive import Archive, ItemObservation
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Finding, Run
from storage.search import Query, fts5_query, search, tsquery

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
POSTS = {
    "p1": "Permit applications for block parties open Monday",
    "p2": "Your permit was permitted; permits are mailed",
    "p3": "The poolside cafe opens at noon",
    "p4": "Pool closed for repairs",
    "p5": "Café hours change on holidays",
}


def store(db: Database, tmp_path: Path, posts: dict[str, str], run_id: str = "r1") -> None:
    archive = Archive(db, BlobStore(tmp_path / "blobs"))
    archive.start_run(Run(id=run_id, account_id="parks", platform="sandbox"))
    seen = [ItemObservation(pid, "Parks Department", text, (), T0 + timedelta(hours=i), f"h-{pid}", {"text": text})
            for i, (pid, text) in enumerate(posts.items())]
    with db.session() as session:
        archive.record_items(session, run_id, "parks", "post", seen, [], T0)


def found(db: Database, words: str) -> list[str]:
    return [h.platform_id for h in search(db, Query(words=words))]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    database.create_schema()
    store(database, tmp_path, POSTS)
    return database


def test_a_word_finds_its_other_forms(db: Database) -> None:
    assert found(db, "permits") == ["p2", "p1"]
    assert found(db, "permitted") == ["p2", "p1"]


def test_a_word_is_not_a_prefix_unless_the_clerk_writes_a_star(db: Database) -> None:
    assert found(db, "pool") == ["p4"]
    assert found(db, "pool*") == ["p4", "p3"]


def test_every_word_must_appear_and_accents_do_not_matter(db: Database) -> None:
    assert found(db, "permit monday") == ["p1"]
    assert found(db, "cafe") == ["p5", "p3"]


def test_the_author_is_searched_too(db: Database) -> None:
    assert len(found(db, "department")) == len(POSTS)


def test_query_syntax_in_the_words_is_only_words(db: Database) -> None:
    assert found(db, 'pool" OR "permit') == []  # pool AND or AND permit: no post has all three
    assert found(db, "NOT pool") == []
    assert found(db, '"*) (') == []


def test_queries_are_built_from_words_and_stars_only() -> None:
    assert fts5_query('permit pool* "x" OR') == '"permit" "pool"* "x" "OR"'
    assert tsquery("permit pool* a&b !c") == "permit & pool:* & a & b & c"
    assert fts5_query("*") == "" and tsquery("-- ;") == ""


def test_posts_archived_before_the_upgrade_are_found_by_their_stems(tmp_path: Path) -> None:
    old = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    old.create_schema("0008")
    store(old, tmp_path, POSTS)
    assert found(old, "permit") == ["p2", "p1"]  # revision 0008 still matched every word as a prefix
    old.create_schema()
    assert found(old, "permits") == ["p2", "p1"]
    assert found(old, "pool") == ["p4"]
    store(old, tmp_path, {"p6": "New permits issued"}, run_id="r2")
    assert sorted(found(old, "permit")) == ["p1", "p2", "p6"]  # the triggers index new posts stemmed


def test_a_finding_kind_filter_applies_before_the_limit(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'many.sqlite'}")
    db.create_schema()
    store(db, tmp_path, {f"n{i}": f"Update {i} on the leaf pickup" for i in range(250)})
    with db.session() as s:  # the oldest post, and a comment with the same id, are flagged
        s.add(Finding(fingerprint="f1", account_id="parks", kind="personal_data", severity="high", summary="phone",
                      subject="post:n0", clause="4.2", evidence_run_id="r1", last_run_id="r1"))
        s.add(Finding(fingerprint="f2", account_id="library", kind="personal_data", severity="high",
                      summary="phone", subject="post:n1", clause="4.2", evidence_run_id="r1", last_run_id="r1"))
    flagged = Query(words="update", finding_kind="personal_data", limit=200)
    assert [h.platform_id for h in search(db, flagged)] == ["n0"]  # not n1: its finding is another account's
    assert [h.platform_id for h in search(db, Query(finding_kind="personal_data"))] == ["n0"]
    assert search(db, Query(words="update", finding_kind="spam_link")) == []
