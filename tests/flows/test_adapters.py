"""The generic and sandbox adapters against the sandbox network, in a real Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.browser import BrowserHost
from agent.errors import Blocked, LoginFailed
from agent.settings import Account, Settings, load_settings
from flows import registry
from flows.base import CaptureResult, LoginOutcome, Snapshot, VisitorCapture
from tests.conftest import Site, edit_config, png_size, run_async, set_key


@dataclass
class Capture:
    result: CaptureResult
    login: LoginOutcome
    visitor: VisitorCapture | None


@pytest.fixture(autouse=True)
def _browser(shared_browser: BrowserHost) -> None:
    global _host
    _host = shared_browser


_host: BrowserHost


def capture(settings: Settings, account: Account, visitor: bool = False) -> Capture:
    """Log in as the owner and snapshot in fresh contexts; optionally the visitor view."""

    async def go() -> Capture:
        adapter = registry.get(account.platform)(account, settings.browser.limits())
        async with _host.context() as owner, _host.context() as anon:
            page = await owner.new_page()
            creds = account.credentials.resolved() if account.credentials else None
            outcome = await adapter.login(page, creds)
            result = await adapter.snapshot(page)
            seen = await adapter.visitor_view(await anon.new_page()) if visitor else None
            return Capture(result, outcome, seen)

    return run_async(go)


def comparable(snapshot: Snapshot) -> dict[str, object]:
    return snapshot.model_dump(mode="json", exclude={"platform", "warnings"})


def test_generic_and_sandbox_adapters_agree_on_the_same_page(config_file: Path) -> None:
    set_key(config_file, "parks", "platform", '"sandbox"')
    as_sandbox = load_settings(config_file)
    set_key(config_file, "parks", "platform", '"generic"')
    as_generic = load_settings(config_file)
    generic = capture(as_generic, as_generic.account("parks")).result.snapshot
    sandbox = capture(as_sandbox, as_sandbox.account("parks")).result.snapshot
    assert generic.platform == "generic" and sandbox.platform == "sandbox"
    assert len(generic.posts) == 25 and sum(len(p.comments) for p in generic.posts) > 10
    assert comparable(generic) == comparable(sandbox)


def test_owner_view_reads_posts_comments_publisher_and_profile(settings: Settings, site: Site) -> None:
    snap = capture(settings, settings.account("parks")).result.snapshot
    first = snap.posts[0]
    assert first.publisher == "Tom Intern" and first.author == "Springfield Parks & Rec"
    assert first.time is not None and first.time.tzinfo is not None
    assert snap.profile.name == "Springfield Parks & Rec"
    assert snap.profile.links == (f"{site.base_url}/site/", f"{site.base_url}/site/parks")
    assert snap.profile.avatar_sha256 is not None
    linked = next(p for p in snap.posts if "leaf-pickup" in p.text)
    assert linked.links == (f"{site.base_url}/site/leaf-pickup",)
    commented = next(p for p in snap.posts if p.comments)
    assert all(c.id.startswith("c") and c.author and c.text for c in commented.comments)
    assert snap.public_posting_setting is False
    assert snap.warnings == ()


def test_scrolling_stops_at_max_posts(config_file: Path) -> None:
    set_key(config_file, "parks", "max_posts", "15")
    settings = load_settings(config_file)
    snap = capture(settings, settings.account("parks")).result.snapshot
    assert len(snap.posts) == 15 and not snap.feed_complete


def test_scrolling_reaches_the_end_of_a_short_feed(settings: Settings) -> None:
    snap = capture(settings, settings.account("library")).result.snapshot
    assert len(snap.posts) == 12 and snap.feed_complete


def test_a_long_feed_is_loaded_by_scrolling_to_max_posts(config_file: Path, site: Site) -> None:
    for i in range(40):
        site.admin.add_post("parks", f"Extra announcement number {i}")
    set_key(config_file, "parks", "max_posts", "60")
    settings = load_settings(config_file)
    snap = capture(settings, settings.account("parks")).result.snapshot
    assert len(snap.posts) == 60 and not snap.feed_complete
    assert len({p.id for p in snap.posts}) == 60


def test_totp_login_through_the_sandbox_adapter(settings: Settings) -> None:
    got = capture(settings, settings.account("library"))
    assert got.login is LoginOutcome.FRESH
    assert got.result.snapshot.posts[0].publisher == "Ruth Adeyemi"


def test_wrong_password_is_a_login_failure_with_the_sites_message(config_file: Path, site: Site) -> None:
    site.admin.patch_account("parks", password="changed-by-someone")
    settings = load_settings(config_file)
    with pytest.raises(LoginFailed, match="the site refused the login: Wrong username or password."):
        capture(settings, settings.account("parks"))


def test_a_checkpoint_is_reported_as_blocked(settings: Settings, site: Site) -> None:
    site.admin.patch_account("police", checkpoint=True)
    with pytest.raises(Blocked, match="CAPTCHA or checkpoint"):
        capture(settings, settings.account("police"))


def test_visitor_view_sees_the_composer_only_where_public_posting_is_on(settings: Settings) -> None:
    police = capture(settings, settings.account("police"), visitor=True)
    parks = capture(settings, settings.account("parks"), visitor=True)
    assert police.visitor is not None and police.visitor.view.composer_offered
    assert parks.visitor is not None and not parks.visitor.view.composer_offered
    assert police.result.snapshot.public_posting_setting is True
    shot = police.visitor.artifacts[0]
    assert shot.kind == "visitor_screenshot" and shot.data.startswith(b"\x89PNG")


def test_screenshots_of_pages_taller_than_the_limit_are_cut_and_say_so(config_file: Path) -> None:
    edit_config(config_file, "[browser]", "[browser]\nmax_screenshot_height = 1000")
    settings = load_settings(config_file)
    police = capture(settings, settings.account("police"), visitor=True)
    shots = [a for a in police.result.artifacts if a.kind in ("screenshot", "settings")]
    assert police.visitor is not None
    shots += [a for a in police.visitor.artifacts if a.kind == "visitor_screenshot"]
    # the feed and the visitor's view are taller than 1000 px; the settings page fits whole
    assert [png_size(a.data) for a in shots] == [(1280, 1000), (1280, 900), (1280, 1000)]
    warnings = police.result.snapshot.warnings + police.visitor.warnings
    assert [w.split(":")[0] for w in warnings] == ["the feed", "the visitor's view"]
    assert all(re.search(r": the page is 1280 x \d{4,} px; its screenshot shows the top left 1280 x 1000 px "
                         r"\(\[browser\] max_screenshot_height = 1000\)$", w) for w in warnings), warnings


def test_visitor_posts_are_marked_and_publishers_hidden_from_visitors(settings: Settings) -> None:
    snap = capture(settings, settings.account("police")).result.snapshot
    visitor_posts = [p for p in snap.posts if p.visitor]
    assert [p.author for p in visitor_posts] == ["Sam Whitfield"]
    assert visitor_posts[0].publisher is None


def test_changed_markup_yields_no_posts_and_says_so(config_file: Path, site: Site) -> None:
    edit_config(config_file, "[browser]", '[browser]\nstep_timeout = "2s"')
    settings = load_settings(config_file)
    site.admin.patch_account("police", layout="v2")
    snap = capture(settings, settings.account("police")).result.snapshot
    assert snap.posts == () and snap.profile.name == ""
    assert any("matched nothing" in w for w in snap.warnings)


def test_hostile_post_text_is_captured_as_text(settings: Settings, site: Site) -> None:
    site.admin.add_post("library", "<script>document.title='owned'</script><img src=x onerror=alert(1)>")
    snap = capture(settings, settings.account("library")).result.snapshot
    assert snap.posts[0].text == "<script>document.title='owned'</script><img src=x onerror=alert(1)>"


def test_invalid_css_in_config_is_reported_not_crashing(config_file: Path) -> None:
    edit_config(config_file, 'author = ".author"', 'author = ".author:::nope"')
    settings = load_settings(config_file)
    snap = capture(settings, settings.account("parks")).result.snapshot
    assert any('invalid CSS selector ".author:::nope"' in w for w in snap.warnings)
