"""Link results in the database: the cache and failures counted run by run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from agent.errors import StorageError
from storage import links
from storage.db import Database
from storage.models import LinkCheck

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
URL = "https://springfield.gov/agenda"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    database.create_schema()
    return database


def check(status: str, at: datetime, url: str = URL) -> LinkCheck:
    return LinkCheck(url_hash=links.url_hash(url), url=url, status=status, checked_at=at,
                     error_class=None if status == "ok" else "http_status")


def runs(db: Database, statuses: list[str]) -> list[tuple[str, int]]:
    """Each run's status and failures in a row; "unchecked": the proxy was down that run."""
    states = []
    for i, status in enumerate(statuses):
        now = T0 + timedelta(hours=i)
        result = check("skipped" if status == "unchecked" else status, now)
        unchecked = {URL} if status == "unchecked" else set()
        with db.session() as s:
            [row] = links.update_account(s, "parks", f"r{i}", {URL: result}, {URL: ["post:p1"]}, now, unchecked)
            states.append((row.status, row.consecutive_failures))
    return states


def test_failures_are_counted_in_a_row_and_reset_by_a_success(db: Database) -> None:
    counts = [n for _, n in runs(db, ["broken", "ok", "broken", "broken", "broken", "ok"])]
    assert counts == [1, 0, 1, 2, 3, 0]


def test_a_run_that_could_not_check_a_link_keeps_its_last_verdict(db: Database) -> None:
    assert runs(db, ["broken", "unchecked", "broken", "unchecked", "ok", "unchecked"]) == [
        ("broken", 1), ("broken", 1), ("broken", 2), ("broken", 2), ("ok", 0), ("ok", 0)]


def test_the_cache_reuses_working_links_only_while_fresh(db: Database) -> None:
    other = "https://springfield.gov/gone"
    with db.session() as s:
        links.save_checks(s, [check("ok", T0), check("broken", T0, other)])
    with db.session() as s:
        fresh = links.cached(s, [URL, other], ok_since=T0 - timedelta(hours=1), failed_since=T0 + timedelta(seconds=1))
        stale = links.cached(s, [URL], ok_since=T0 + timedelta(minutes=1), failed_since=T0)
    assert set(fresh) == {URL} and stale == {}


def test_when_a_link_last_worked_is_kept_through_failures(db: Database) -> None:
    with db.session() as s:
        links.save_checks(s, [check("ok", T0)])
    with db.session() as s:
        links.save_checks(s, [check("broken", T0 + timedelta(hours=1))])
    with db.session() as s:
        row = s.get(LinkCheck, links.url_hash(URL))
        assert row is not None and row.status == "broken" and row.last_ok_at == T0


def test_runs_saving_the_same_links_at_once_all_succeed(db: Database) -> None:
    # accounts that publish the same link save its check at the same moment (concurrent runs)
    urls = [f"https://springfield.gov/page{n}" for n in range(40)]
    barrier, errors = threading.Barrier(6), []

    def save(offset: int) -> None:
        barrier.wait()
        try:
            with db.session() as s:
                links.save_checks(s, [check("ok", T0 + timedelta(seconds=offset), u) for u in urls])
        except StorageError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as s:
        rows = s.exec(select(LinkCheck)).all()
    assert len(rows) == 40 and {r.checked_at for r in rows} == {T0 + timedelta(seconds=5)}  # the newest


def test_an_older_check_does_not_replace_a_newer_one(db: Database) -> None:
    with db.session() as s:
        links.save_checks(s, [check("broken", T0 + timedelta(hours=1))])
    with db.session() as s:
        links.save_checks(s, [check("ok", T0)])
    with db.session() as s:
        row = s.get(LinkCheck, links.url_hash(URL))
    assert row is not None and row.status == "broken" and row.checked_at == T0 + timedelta(hours=1)
