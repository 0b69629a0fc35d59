"""The findings lifecycle in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import findings
from storage.db import Database
from storage.findings import FindingDraft, LifecycleError
from storage.models import Run

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    database.create_schema()
    with database.session() as s:
        for i in range(1, 6):
            s.add(Run(id=f"r{i}", account_id="parks", platform="sandbox"))
    return database


def draft(fp: str = "fp1", stateful: bool = True, subject: str = "post:p1") -> FindingDraft:
    return FindingDraft(kind="unauthorized_author", severity="high", summary="s", subject=subject,
                        clause="702.3", fingerprint=fp, stateful=stateful)


def record(db: Database, run: str, drafts: list[FindingDraft], at: datetime) -> list[findings.Recorded]:
    with db.session() as s:
        return findings.record(s, "parks", run, drafts, at)


def test_the_same_problem_on_every_run_stays_one_finding(db: Database) -> None:
    assert [r.change for r in record(db, "r1", [draft()], T0)] == ["new"]
    assert [r.change for r in record(db, "r2", [draft()], T0 + timedelta(hours=1))] == ["seen"]
    with db.session() as s:
        [row] = findings.query(s)
    assert row.times_seen == 2 and row.evidence_run_id == "r1" and row.last_run_id == "r2"
    assert row.last_seen_at == T0 + timedelta(hours=1)


def test_ack_then_resolve_records_who_when_and_why(db: Database) -> None:
    [rec] = record(db, "r1", [draft()], T0)
    fid = rec.finding.id or 0
    with db.session() as s:
        findings.acknowledge(s, fid, "pio", "looking", T0)
        findings.resolve(s, fid, "pio", "post removed: not authorised", T0 + timedelta(minutes=5))
    with db.session() as s:
        row = findings.get(s, fid)
        history = [(e.event, e.by) for e in findings.events(s, fid)]
    assert (row.status, row.resolved_by, row.resolution) == ("resolved", "pio", "post removed: not authorised")
    assert history == [("opened", None), ("acknowledged", "pio"), ("resolved", "pio")]


def test_lifecycle_mistakes_are_refused(db: Database) -> None:
    [rec] = record(db, "r1", [draft()], T0)
    fid = rec.finding.id or 0
    with db.session() as s:
        findings.resolve(s, fid, "pio", "done", T0)
    with db.session() as s, pytest.raises(LifecycleError, match="only an open finding"):
        findings.acknowledge(s, fid, "pio", None, T0)
    with db.session() as s, pytest.raises(LifecycleError, match="already resolved"):
        findings.resolve(s, fid, "pio", "again", T0)
    with db.session() as s, pytest.raises(findings.FindingNotFound):
        findings.get(s, 999)


def test_a_resolved_condition_still_present_stays_resolved(db: Database) -> None:
    [rec] = record(db, "r1", [draft()], T0)
    with db.session() as s:
        findings.resolve(s, rec.finding.id or 0, "pio", "accepted", T0)
    assert [r.change for r in record(db, "r2", [draft()], T0 + timedelta(hours=1))] == ["seen"]


def test_a_resolved_condition_that_goes_away_and_comes_back_is_reopened(db: Database) -> None:
    [rec] = record(db, "r1", [draft()], T0)
    fid = rec.finding.id or 0
    with db.session() as s:
        findings.resolve(s, fid, "pio", "removed", T0)
    with db.session() as s:
        cleared = findings.clear_unseen(s, "parks", "r2", [], lambda f: True, T0 + timedelta(hours=1))
    assert [f.id for f in cleared] == [fid]
    [again] = record(db, "r3", [draft()], T0 + timedelta(hours=2))
    assert again.change == "reopened" and again.finding.status == "open" and again.finding.reopened == 1
    assert again.finding.evidence_run_id == "r3"


def test_a_resolved_event_detected_again_is_reopened(db: Database) -> None:
    [rec] = record(db, "r1", [draft(stateful=False)], T0)
    with db.session() as s:
        findings.resolve(s, rec.finding.id or 0, "clerk", "reason recorded", T0)
    assert record(db, "r2", [draft(stateful=False)], T0)[0].change == "reopened"


def test_only_judged_findings_are_cleared(db: Database) -> None:
    record(db, "r1", [draft("a", subject="post:p1"), draft("b", subject="post:p2")], T0)
    with db.session() as s:
        cleared = findings.clear_unseen(s, "parks", "r2", [], lambda f: f.subject == "post:p1", T0)
    assert [f.fingerprint for f in cleared] == ["a"]
