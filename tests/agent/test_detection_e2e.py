"""Detection end to end: change the sandbox between two real runs, get exactly the right finding once."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from agent.recorder import RunReport
from agent.services import open_services
from agent.settings import Settings
from storage import findings as store
from storage.models import Post
from tests.agent.conftest import Check
from tests.conftest import Site, edit_config, set_key


def new(report: RunReport) -> list[tuple[str, str]]:
    return sorted((f["kind"], f["subject"]) for f in report.findings if f["change"] in ("new", "reopened"))


def test_an_unchanged_page_produces_no_findings(check: Check) -> None:
    first, second = check("library"), check("library")
    assert first.status == second.status == "ok"
    assert first.findings == [] and second.findings == []


def test_a_post_by_an_unauthorised_author_is_found_once(check: Check, site: Site) -> None:
    check("library")
    pid = site.admin.add_post("library", "Closing early today!!", publisher="Temp Volunteer")
    assert new(check("library")) == [("unauthorized_author", f"post:{pid}")]
    again = check("library")
    assert new(again) == [] and [f["change"] for f in again.findings] == ["seen"]


def test_a_public_comment_where_comments_are_closed(check: Check, site: Site, config_file: Path) -> None:
    set_key(config_file, "library", "public_comments", "false")
    check("library")
    post_id = site.admin.account("library")["posts"][0]["id"]
    cid = site.admin.add_comment("library", post_id, "Maria Gonzalez", "When is story time?")
    assert new(check("library")) == [("public_post_present", f"comment:{cid}")]


def test_turning_public_posting_on(check: Check, site: Site) -> None:
    check("library")
    site.admin.patch_account("library", public_posting=True)
    report = check("library")
    assert new(report) == [("public_posting_enabled", "setting:public_posting")]
    summary = report.findings[0]["summary"]
    assert "offered a post composer" in summary and "settings allow" in summary


def test_deleting_and_editing_posts_between_runs(check: Check, site: Site, settings: Settings) -> None:
    check("library")
    posts = site.admin.account("library")["posts"]
    site.admin.delete_post("library", posts[2]["id"])
    site.admin.edit_post("library", posts[0]["id"], text="Story time moves to Wednesdays at 10:30am.")
    assert new(check("library")) == [("post_deleted", f"post:{posts[2]['id']}"),
                                     ("post_edited", f"post:{posts[0]['id']}")]
    services = open_services(settings)
    with services.db.session() as s:
        kept = s.exec(select(Post).where(Post.platform_id == posts[2]["id"])).one()
    services.close()
    assert kept.gone_at is not None and kept.text == posts[2]["text"]


def test_changing_the_profile_name(check: Check, site: Site) -> None:
    check("library")
    site.admin.patch_account("library", name="Springfield Library (UNOFFICIAL)")
    report = check("library")
    assert new(report) == [("profile_changed", "profile")]


def test_a_post_with_a_phone_number(check: Check, site: Site) -> None:
    check("library")
    post_id = site.admin.account("library")["posts"][0]["id"]
    cid = site.admin.add_comment("library", post_id, "Dave Chen", "Text me at 217-555-0199 about the book sale")
    report = check("library")
    assert new(report) == [("prohibited_content", f"comment:{cid}")]
    assert "a phone number" in report.findings[0]["summary"]


def test_a_changed_password_is_login_failed_and_recovery_resolves_it(check: Check, site: Site, settings: Settings) -> None:
    check("police")
    site.admin.patch_account("police", password="rotated")
    site.admin.expire_sessions("police")
    failed = check("police")
    assert failed.status == "failed" and new(failed) == [("login_failed", "account")]
    assert "Wrong username or password" in failed.findings[0]["summary"]
    site.admin.patch_account("police", password="police-demo-pass-4418")
    attempts = site.admin.account("police")["login_attempts"]
    paused = check("police")
    assert paused.status == "failed" and "not signing in" in (paused.error or "")
    assert site.admin.account("police")["login_attempts"] == attempts  # the site was not touched
    assert check("police", force_login=True).status == "ok"
    services = open_services(settings)
    with services.db.session() as s:
        [row] = store.query(s, account="police", kind="login_failed")
    services.close()
    assert row.status == "resolved" and row.resolved_by == "civicwatch"


def test_a_redesigned_page_is_structure_changed_not_a_mass_deletion(check: Check, site: Site, config_file: Path) -> None:
    edit_config(config_file, "[browser]", '[browser]\nstep_timeout = "2s"')
    check("library")
    site.admin.patch_account("library", layout="v2")
    report = check("library")
    assert new(report) == [("structure_changed", "account")]
    site.admin.patch_account("library", layout="v1")
    assert new(check("library")) == []
