"""Watching the city's own web pages: crawl, capture each page, version changes, check links,
and keep going past a page that is broken or hostile."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from agent.services import open_services
from agent.settings import load_settings
from storage.models import Artifact, Capture, ItemVersion, Post
from tests.agent.conftest import Check
from tests.conftest import Site, edit_config, png_size


def test_a_website_account_crawls_captures_each_page_and_checks_its_links(
    check: Check, site: Site, config_file: Path
) -> None:
    report = check("city-site")
    assert report.status == "ok", report.error
    pages = {f"{site.base_url}/site/{p}" for p in ("", "parks", "library", "police", "permits")}
    services = open_services(load_settings(config_file))
    try:
        with services.db.session() as session:
            posts = session.exec(select(Post).where(Post.account_id == "city-site")).all()
            assert {p.platform_id for p in posts} == pages
            captures = session.exec(select(Capture).where(Capture.run_id == report.run_id,
                                                          Capture.view == "page")).all()
            assert {c.url for c in captures} == pages, "one capture (screenshot + DOM) per page"
            kinds = session.exec(select(Artifact.kind).where(col(Artifact.capture_id).in_([c.id for c in captures])))
            assert sorted(kinds).count("screenshot") == len(pages)
    finally:
        services.close()
    # every department page links to an old form that is gone, and to a mailto: address
    assert report.links["broken"] == 4 and report.links["checked"] >= 14
    assert report.findings == [], "a first failure is not yet a finding"
    second = check("city-site")
    assert sorted(f["subject"] for f in second.findings if f["kind"] == "broken_link") == sorted(
        f"link:{site.base_url}/site/gone-{d}-form" for d in ("parks", "library", "police", "permits"))


def test_a_changed_page_is_recorded_as_a_new_version_without_a_finding(
    check: Check, site: Site, config_file: Path
) -> None:
    edit_config(config_file, "max_pages = 8", "max_pages = 1")  # only the home page
    check("city-site")
    site.admin.server(site_notice="City Hall is closed on Friday for the holiday.")
    report = check("city-site")
    assert [f for f in report.findings if f["kind"] != "broken_link"] == []
    services = open_services(load_settings(config_file))
    try:
        with services.db.session() as session:
            home = session.exec(select(Post).where(Post.account_id == "city-site")).one()
            versions = session.exec(select(ItemVersion).where(ItemVersion.item_type == "post",
                                                              ItemVersion.item_id == home.id)).all()
    finally:
        services.close()
    assert home.version_count == 2 and len(versions) == 2
    assert "closed on Friday" in home.text and "closed on Friday" not in versions[0].content["text"]


TALL_PAGE = ("<!doctype html><title>Budget archive</title><body style='margin:0'>"
             "<div style='height:30000px;background:linear-gradient(#fff,#9cf)'>Every budget since 1950</div>"
             "<a href='/site/'>City home</a></body>")
STUCK_PAGE = "<!doctype html><title>Broken widget</title><body><script>for (;;) {}</script></body>"


def test_a_page_too_tall_is_cut_and_one_that_never_loads_costs_no_other_page(
    check: Check, site: Site, config_file: Path
) -> None:
    edit_config(config_file, 'allowed_hosts = ["127.0.0.1"]',
                'allowed_hosts = ["127.0.0.1"]\nmax_screenshot_height = 4000\nnavigation_timeout = "3s"')
    site.admin.server(site_pages={"budget-archive": TALL_PAGE, "broken-widget": STUCK_PAGE})
    report = check("city-site")
    assert report.status == "ok", report.error
    tall, stuck = f"{site.base_url}/site/budget-archive", f"{site.base_url}/site/broken-widget"
    cut = [w for w in report.warnings if w.startswith(f"page {tall}: the page is 1280 x 300")]
    assert cut and cut[0].endswith("its screenshot shows the top left 1280 x 4000 px "
                                   "([browser] max_screenshot_height = 4000)"), report.warnings
    assert [w for w in report.warnings if w.startswith(f"page {stuck} could not be captured")], report.warnings
    services = open_services(load_settings(config_file))
    try:
        with services.db.session() as session:
            captures = session.exec(select(Capture).where(Capture.run_id == report.run_id,
                                                          Capture.view == "page")).all()
            pages = {c.url: c for c in captures}
            shot = session.exec(select(Artifact).where(Artifact.capture_id == pages[tall].id,
                                                       Artifact.kind == "screenshot")).one()
            png = services.archive.blobs.get(shot.sha256)
    finally:
        services.close()
    assert set(pages) == {f"{site.base_url}/site/{p}" for p in ("", "parks", "library", "police", "permits",
                                                                "budget-archive")}
    assert png_size(png) == (1280, 4000)
