"""The sandbox network as a person uses it, driven by pytest-playwright's page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from sandbox.seed import DEMO_PASSWORDS
from tests.conftest import Site


def sign_in(page: Page, site: Site, slug: str) -> None:
    page.goto(f"{site.base_url}/login")
    page.fill("#user", f"{slug}@springfield.example")
    page.fill("#pass", DEMO_PASSWORDS[slug])
    page.click("button[type=submit]")
    expect(page.locator(".signed-in")).to_be_visible()


def test_infinite_scroll_loads_the_whole_feed(page: Page, site: Site) -> None:
    page.goto(site.url("parks"))
    expect(page.locator("article.post")).to_have_count(10)
    page.mouse.wheel(0, 100_000)
    expect(page.locator("article.post")).to_have_count(20)
    page.mouse.wheel(0, 100_000)
    expect(page.locator(".feed-end")).to_be_visible()
    expect(page.locator("article.post")).to_have_count(25)


def test_a_visitor_can_post_only_where_public_posting_is_on(page: Page, site: Site) -> None:
    page.goto(site.url("parks"))
    expect(page.locator("form.visitor-post")).to_have_count(0)
    page.goto(site.url("police"))
    page.fill("form.visitor-post [name=name]", "Pat Visitor")
    page.fill("form.visitor-post [name=text]", "Is the station open on Sunday?")
    page.click("form.visitor-post button")
    first = page.locator("article.post").first
    expect(first).to_have_class("post by-visitor")
    expect(first.locator(".author")).to_have_text("Pat Visitor")


def test_the_owner_sees_publishers_and_can_open_public_posting(page: Page, site: Site) -> None:
    page.goto(site.url("parks"))
    expect(page.locator(".published-by")).to_have_count(0)
    sign_in(page, site, "parks")
    expect(page.locator(".published-by").first).to_have_text("Tom Intern")
    page.goto(f"{site.base_url}/settings/parks")
    page.check("#allow-public-posts")
    page.click("button[type=submit]")
    expect(page.locator(".saved")).to_be_visible()
    assert site.admin.account("parks")["public_posting"] is True


def test_hostile_post_text_is_shown_as_text(page: Page, site: Site) -> None:
    site.admin.add_post("library", "<script>document.title='owned'</script>")
    page.goto(site.url("library"))
    expect(page.locator("article.post .body").first).to_have_text("<script>document.title='owned'</script>")
    assert page.title() != "owned"


def test_wrong_password_shows_an_error(page: Page, site: Site) -> None:
    page.goto(f"{site.base_url}/login")
    page.fill("#user", "parks@springfield.example")
    page.fill("#pass", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("Wrong username or password.")
