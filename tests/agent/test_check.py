"""`civicwatch check`: the whole capture loop through the command line."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

from playwright.async_api import Page
from sqlmodel import func, select

from agent.cli.check import _line
from agent.runner import RunReport
from agent.settings import load_settings
from flows import registry
from flows.base import CaptureResult
from flows.sandbox import SandboxAdapter
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Artifact, Blob, Comment, Finding, ItemVersion, Post, ProfileVersion, Run
from tests.conftest import CliResult, Site, edit_config, run_cli, set_key


def check(config: Path, *args: str) -> CliResult:
    return run_cli("--config", str(config), "check", *args)


def jsonl(result: CliResult) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {row["account"]: row for row in rows}


def database(config: Path) -> Database:
    return Database(load_settings(config).agent.sqlalchemy_url())


def test_check_json_prints_one_object_per_run(config_file: Path) -> None:
    result = check(config_file, "parks", "library", "--json")
    assert result.exit_code == 0, result.stderr
    runs = jsonl(result)
    assert set(runs) == {"parks", "library"}
    parks = runs["parks"]
    assert set(parks) >= {"run_id", "account", "status", "error", "captures", "posts_seen", "posts_new",
                          "findings", "links"}
    assert parks["status"] == "ok" and parks["error"] is None
    assert parks["posts_seen"] == 25 and parks["posts_new"] == 25
    # the profile's two links and every /site/ link in the posts, all working
    assert parks["links"]["checked"] >= 10 and parks["links"]["broken"] == 0 and parks["links"]["skipped"] == 0
    kinds = {a["kind"] for c in parks["captures"] for a in c["artifacts"]}
    assert kinds >= {"screenshot", "dom", "snapshot", "visitor_screenshot", "settings", "avatar"}
    assert all(len(a["sha256"]) == 64 and a["bytes"] > 0 for c in parks["captures"] for a in c["artifacts"])


def test_a_run_says_how_long_each_phase_took_in_json_and_in_the_log(config_file: Path) -> None:
    result = check(config_file, "parks", "--json")
    assert result.exit_code == 0, result.stderr
    phases = jsonl(result)["parks"]["phases"]
    assert list(phases) == ["sign-in", "owner view", "visitor view", "WARC", "links", "recording"]
    assert all(seconds > 0 for seconds in phases.values())
    line = next(line for line in result.stderr.splitlines() if "capture ok:" in line)
    total = float(line.split(" in ")[1].split(" s ")[0])
    assert sum(phases.values()) <= total + 0.1
    assert f"owner view {phases['owner view']:.1f} s" in line


def test_wrong_password_fails_that_run_clearly_and_the_others_still_run(config_file: Path, site: Site) -> None:
    site.admin.patch_account("parks", password="rotated-by-it")
    result = check(config_file, "--all", "--json")
    assert result.exit_code == 1
    assert result.exception is None
    runs = jsonl(result)
    assert runs["parks"]["status"] == "failed"
    assert runs["parks"]["error"] == "the site refused the login: Wrong username or password."
    assert runs["library"]["status"] == "ok" and runs["police"]["status"] == "ok"
    with database(config_file).session() as s:
        failed = s.exec(select(Run).where(Run.account_id == "parks")).one()
    assert failed.status == "failed" and failed.error_code == "login_failed" and failed.finished_at


def test_human_output_names_the_failure(config_file: Path, site: Site) -> None:
    site.admin.patch_account("police", down=True)
    result = check(config_file, "police")
    assert result.exit_code == 1
    assert "police" in result.stdout and "FAILED" in result.stdout and "HTTP 503" in result.stdout


def test_a_capture_cut_short_says_so_in_json_and_in_the_log(config_file: Path) -> None:
    edit_config(config_file, "[browser]", "[browser]\nmax_screenshot_height = 1000")
    result = check(config_file, "police", "--json")
    assert result.exit_code == 0, result.stderr
    warnings = jsonl(result)["police"]["warnings"]
    assert [w.split(":")[0] for w in warnings] == ["the feed", "the visitor's view"]
    assert f"capture warning: {warnings[0]}" in result.stderr


def test_human_output_lists_warnings_and_no_page_text_can_drive_the_terminal() -> None:
    ok = RunReport(run_id="r1", account="parks", status="ok", warnings=["page /x: \x1b[2Jcleared", "feed stopped"])
    lines = _line(ok).splitlines()
    assert lines[1:] == [f"{'':<16} warning: page /x: [2Jcleared", f"{'':<16} warning: feed stopped"]
    failed = RunReport(run_id="r2", account="parks", status="failed", error_code="login_failed",
                       error="the site refused the login: \x1b]0;owned\x07\u202eevil")
    assert _line(failed) == "parks            FAILED  login_failed: the site refused the login: ]0;ownedevil"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_site_is_a_failed_run_not_a_crash(config_file: Path, site: Site) -> None:
    text = config_file.read_text().replace(site.base_url, f"http://127.0.0.1:{closed_port()}")
    config_file.write_text(text)
    result = check(config_file, "library", "--json")
    assert result.exit_code == 1 and result.exception is None
    run = jsonl(result)["library"]
    assert run["status"] == "failed" and "connection refused" in run["error"]


def test_usage_errors_exit_2(config_file: Path) -> None:
    assert check(config_file).exit_code == 2
    assert check(config_file, "parks", "--all").exit_code == 2
    unknown = check(config_file, "nosuch")
    assert unknown.exit_code == 2 and "no account 'nosuch'" in unknown.stderr and "parks" in unknown.stderr


def test_rerun_on_unchanged_page_adds_no_duplicate_rows_and_reuses_the_session(config_file: Path) -> None:
    first = jsonl(check(config_file, "parks", "--json"))["parks"]
    second = jsonl(check(config_file, "parks", "--json"))["parks"]
    assert first["posts_new"] == 25 and second["posts_new"] == 0 and second["posts_seen"] == 25
    db = database(config_file)
    with db.session() as s:
        assert s.exec(select(func.count()).select_from(Post)).one() == 25
        assert s.exec(select(func.count()).select_from(ItemVersion)).one() == 25 + s.exec(
            select(func.count()).select_from(Comment)).one()
        assert s.exec(select(func.count()).select_from(ProfileVersion)).one() == 1
        runs = s.exec(select(Run).order_by(Run.started_at)).all()
    assert [r.session_reused for r in runs] == [False, True]
    # Unchanged pages cost no new blobs except what differs by nature: the snapshot (its
    # session flag) and the WARC (its record ids and dates).
    unique = ("snapshot", "warc")
    first_shas = {a["sha256"] for c in first["captures"] for a in c["artifacts"] if a["kind"] not in unique}
    second_shas = {a["sha256"] for c in second["captures"] for a in c["artifacts"] if a["kind"] not in unique}
    assert first_shas == second_shas


def test_an_expired_session_triggers_one_fresh_login(config_file: Path, site: Site) -> None:
    check(config_file, "parks")
    site.admin.expire_sessions("parks")
    before = site.admin.account("parks")["login_attempts"]
    result = check(config_file, "parks", "--json")
    assert jsonl(result)["parks"]["status"] == "ok"
    assert site.admin.account("parks")["login_attempts"] == before + 1


def test_artifact_hashes_in_the_database_match_the_stored_bytes(config_file: Path) -> None:
    check(config_file, "--all")
    settings = load_settings(config_file)
    store = BlobStore(settings.agent.data_dir / "blobs")
    with database(config_file).session() as s:
        artifacts = s.exec(select(Artifact)).all()
        blobs = {b.sha256: b for b in s.exec(select(Blob)).all()}
        runs = s.exec(select(Run)).all()
    assert len(artifacts) >= 3 * 6
    for art in artifacts:
        data = store.path(art.sha256).read_bytes()
        assert hashlib.sha256(data).hexdigest() == art.sha256
        assert len(data) == art.size == blobs[art.sha256].size
    for run in runs:
        assert run.status == "ok" and run.browser_version and run.user_agent and run.viewport == "1280x900"
        assert run.started_at.tzinfo is not None and run.finished_at > run.started_at
        assert run.tool_version and run.playwright_version and run.host


def test_saved_sessions_are_encrypted_at_rest(config_file: Path, site: Site) -> None:
    check(config_file, "parks")
    settings = load_settings(config_file)
    saved = (settings.agent.data_dir / "sessions" / "parks.session").read_bytes()
    live_tokens = list(site.state.sessions)
    assert live_tokens and not any(token.encode() in saved for token in live_tokens)
    assert b"sb_session" not in saved and b"cookies" not in saved
    assert (settings.agent.data_dir / "sessions" / "parks.session").stat().st_mode & 0o777 == 0o600


def test_a_disk_short_of_space_refuses_every_run_with_the_reason_and_keeps_what_was_stored(
    config_file: Path,
) -> None:
    assert check(config_file, "library").exit_code == 0
    edit_config(config_file, 'min_free_space = "100 MiB"', 'min_free_space = "1000 TiB"')
    result = check(config_file, "--all", "--json")
    assert result.exit_code == 1 and result.exception is None
    runs = jsonl(result)
    assert set(runs) == {"parks", "library", "police", "city-site"}
    for run in runs.values():
        assert run["status"] == "failed" and run["error_code"] == "disk_full"
        assert run["error"].startswith("only ")
        assert run["error"].endswith("less than [agent] min_free_space (1000.0 TiB): "
                                     "no capture is taken until disk space is freed")
    settings = load_settings(config_file)
    with database(config_file).session() as s:
        statuses = s.exec(select(Run.account_id, Run.status, Run.error_code)).all()
        failures = s.exec(select(Finding.account_id).where(Finding.kind == "capture_failed")).all()
        stored = s.exec(select(Blob.sha256)).all()
    assert sorted(statuses) == sorted([("library", "ok", None)] + [(a, "failed", "disk_full") for a in runs])
    assert sorted(failures) == sorted(runs)  # each account's record has a gap, and says why
    blobs = BlobStore(settings.agent.data_dir / "blobs")
    assert stored and all(blobs.check(sha) is None for sha in stored)


def test_a_capture_that_cannot_be_stored_fails_its_run_with_the_reason_and_the_others_still_report(
    config_file: Path,
) -> None:
    blobs = load_settings(config_file).agent.data_dir / "blobs"
    blobs.mkdir(parents=True)
    for prefix in range(256):  # every blob's folder is taken by a file: no artifact can be written
        (blobs / f"{prefix:02x}").write_bytes(b"")
    result = check(config_file, "parks", "library", "--json")
    assert result.exit_code == 1 and result.exception is None
    runs = jsonl(result)
    assert set(runs) == {"parks", "library"}
    for run in runs.values():
        assert run["status"] == "failed" and run["error_code"] == "storage"
        assert run["error"].startswith("the capture could not be stored: cannot write blob ")
    with database(config_file).session() as s:
        rows = s.exec(select(Run.account_id, Run.status, Run.error)).all()
    assert sorted((a, st) for a, st, _ in rows) == [("library", "failed"), ("parks", "failed")]
    assert all(e.startswith("the capture could not be stored") for _, _, e in rows)
    for prefix in range(256):
        (blobs / f"{prefix:02x}").unlink()
    again = check(config_file, "parks", "library", "--json")
    assert again.exit_code == 0, again.stdout


class TitleCountAdapter(SandboxAdapter):
    """A third-party adapter with a bug: it reads a number from text that is not one."""

    name = "sandbox-title-count"

    async def snapshot(self, page: Page) -> CaptureResult:
        result = await super().snapshot(page)
        int(await page.title())  # the title is words: ValueError
        return result


def test_a_bug_in_an_adapter_fails_only_its_own_run_naming_it_with_the_traceback_in_the_log(
    config_file: Path,
) -> None:
    registry.register(TitleCountAdapter)
    set_key(config_file, "library", "platform", f'"{TitleCountAdapter.name}"')
    result = check(config_file, "library", "police", "--json")
    assert result.exit_code == 1 and result.exception is None
    runs = jsonl(result)
    assert runs["police"]["status"] == "ok"
    library = runs["library"]
    assert library["status"] == "failed" and library["error_code"] == "internal"
    assert library["error"].startswith("internal error (ValueError: invalid literal for int() with base 10: ")
    assert library["error"].endswith("a bug in civicwatch or its 'sandbox-title-count' adapter; "
                                     "the log has the traceback")
    assert "Traceback (most recent call last)" in result.stderr and "int(await page.title())" in result.stderr
    with database(config_file).session() as s:
        run = s.exec(select(Run).where(Run.account_id == "library")).one()
        finding = s.exec(select(Finding).where(Finding.account_id == "library")).one()
    assert run.status == "failed" and run.error_code == "internal" and run.finished_at
    assert finding.kind == "capture_failed"
