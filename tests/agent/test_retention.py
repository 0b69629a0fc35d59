"""Records retention: disposition past retention, never on hold, never what is still needed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from agent.retention import run_disposition
from storage import audit, findings, holds
from storage.clock import utcnow
from storage.models import AuditEntry, Blob, ItemVersion, Post, Run
from tests.conftest import run_cli
from tests.world import World, make_world, post

RETAIN = '[retention]\ndefault = "30d"\n'


def blob_files(world: World) -> set[str]:
    root = world.settings.agent.data_dir / "blobs"
    return {p.name for p in root.rglob("*") if p.is_file() and len(p.name) == 64}


def later(days: int = 40):  # type: ignore[no-untyped-def]
    return utcnow() + timedelta(days=days)


def test_records_past_retention_are_disposed_of_and_what_is_needed_stays(tmp_path: Path) -> None:
    world = make_world(tmp_path, RETAIN)
    first = world.capture("parks", [post("p1"), post("p2", "Pool closes at 6.")])
    changed = world.capture("parks", [post("p1", "Leaf pickup starts Tuesday.")])  # p2 deleted, p1 edited
    middle = world.capture("parks", [post("p1", "Leaf pickup starts Tuesday.")])
    latest = world.capture("parks", [post("p1", "Leaf pickup starts Tuesday.")])
    world.capture("police", [post("v1", author="Visitor", publisher=None, visitor=True)])  # an open finding
    [parks, police] = run_disposition(world.services, later())
    assert parks.posts == ["p2"] and parks.versions == 1
    assert parks.runs == [middle.run_id]  # nothing refers to it any more
    assert police.runs == [] and police.findings == []  # the open finding's evidence stays
    with world.services.db.session() as s:
        kept = {r.id for r in s.exec(select(Run).where(Run.account_id == "parks")).all()}
        texts = {v.content["text"] for v in s.exec(select(ItemVersion)).all()}
        posts = sorted(p.platform_id for p in s.exec(select(Post)).all())
        blobs = {b.sha256 for b in s.exec(select(Blob)).all()}
    # first: the current profile's capture; changed: the edit's and deletion's evidence; latest: newest
    assert kept == {first.run_id, changed.run_id, latest.run_id}
    assert posts == ["p1", "v1"] and texts == {"Leaf pickup starts Tuesday.", post("v1").text}
    assert blob_files(world) == blobs  # files and rows agree: nothing orphaned, nothing dangling


def test_resolved_findings_past_retention_go_with_their_evidence(tmp_path: Path) -> None:
    world = make_world(tmp_path, RETAIN)
    world.capture("parks", [post("p1", publisher="Tom Intern")])
    with world.services.db.session() as s:
        findings.resolve(s, 1, "pio", "post removed", utcnow())
    world.capture("parks", [post("p1", publisher="Jane Okafor")])
    [parks, _] = run_disposition(world.services, later())
    assert parks.findings == [1]
    with world.services.db.session() as s:
        assert findings.events(s, 1) == [] and [f.kind for f in findings.query(s)] == ["post_edited"]


def test_a_legal_hold_keeps_everything_and_is_audited(tmp_path: Path) -> None:
    world = make_world(tmp_path, RETAIN)
    world.capture("parks", [post("p1"), post("p2")])
    world.capture("parks", [post("p1")])
    with world.services.db.session() as s:
        hold = holds.add(s, "parks", "Smith v. Springfield", "clerk", "", utcnow())
    assert [r.account_id for r in run_disposition(world.services, later())] == ["police"]
    with world.services.db.session() as s:
        holds.release(s, hold.id or 0, "clerk", utcnow())
    [parks, _] = run_disposition(world.services, later())
    assert parks.posts == ["p2"]
    with world.services.db.session() as s:
        [entry] = s.exec(select(AuditEntry).where(AuditEntry.action == "disposition")).all()
        assert audit.verify(s) == []
    assert entry.target == "parks" and entry.details["posts"] == ["p2"] and "30d" in entry.details["why"]
    assert all(len(sha) == 64 for sha in entry.details["blobs"])


def test_permanent_accounts_are_never_touched(tmp_path: Path) -> None:
    world = make_world(tmp_path, "")
    world.capture("parks", [post("p1")])
    world.capture("parks", [])
    assert run_disposition(world.services, later(days=10_000)) == []


def test_dry_run_deletes_nothing(tmp_path: Path) -> None:
    world = make_world(tmp_path, RETAIN)
    world.capture("parks", [post("p1"), post("p2")])
    world.capture("parks", [post("p1")])
    files = blob_files(world)
    [parks, _] = run_disposition(world.services, later(), dry_run=True)
    assert parks.posts == ["p2"]
    with world.services.db.session() as s:
        assert len(s.exec(select(Post)).all()) == 2
    assert blob_files(world) == files


def test_an_altered_audit_entry_is_detected(tmp_path: Path) -> None:
    world = make_world(tmp_path, RETAIN)
    for i in range(3):
        audit.append(world.services.db, "clerk", "export", f"case-{i}", {"reason": "records request"})
    with world.services.db.engine.begin() as conn:
        conn.execute(text("UPDATE auditentry SET target = 'case-9' WHERE seq = 2"))
    with world.services.db.session() as s:
        problems = audit.verify(s)
    assert [(p.seq, p.problem) for p in problems] == [(2, "its content was altered after it was written")]


def test_hold_cli(tmp_path: Path) -> None:
    world = make_world(tmp_path, RETAIN)
    config = str(tmp_path / "civicwatch.toml")
    added = run_cli("--config", config, "hold", "add", "--account", "parks", "--case", "PRR-2026-114", "--by", "clerk")
    assert added.exit_code == 0 and "legal hold 1 on parks" in added.stdout
    assert "PRR-2026-114" in run_cli("--config", config, "hold", "list").stdout
    assert run_cli("--config", config, "hold", "add", "--account", "nope", "--case", "x", "--by", "c").exit_code == 2
    assert run_cli("--config", config, "hold", "release", "1", "--by", "clerk").exit_code == 0
    again = run_cli("--config", config, "hold", "release", "1", "--by", "clerk")
    assert again.exit_code == 1 and "already released" in again.stderr
    assert run_cli("--config", config, "hold", "list").stdout.strip() == "no legal holds"
    world.services.close()
