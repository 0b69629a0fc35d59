"""Faults a daemon meets for months: a killed browser, hostile pages, a site that goes away."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.browser import BrowserHost
from agent.recorder import RunReport
from agent.runner import Runner
from agent.services import open_services
from agent.settings import Settings, load_settings
from storage import findings as store
from tests.conftest import Site, edit_config, run_async


def chromium_pids(root: int | None = None) -> list[int]:
    """Chromium processes started by this test process (through Playwright's driver), or by ``root``."""
    me = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            names[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        for _ in range(10):
            pid = parents.get(pid, 0)
            if pid == me:
                return True
            if pid <= 1:
                return False
        return False

    return [pid for pid, name in names.items() if "chrom" in name and descends(pid)]


@pytest.fixture
def fast_limits(config_file: Path) -> Settings:
    """Short limits, so a page that never finishes fails in seconds."""
    edit_config(config_file, "[agent]\n", '[agent]\nrun_timeout = "20s"\n')
    edit_config(config_file, "[browser]\n", '[browser]\nnavigation_timeout = "6s"\nstep_timeout = "3s"\n')
    return load_settings(config_file)


@pytest.fixture
def host(fast_limits: Settings) -> Iterator[BrowserHost]:
    browser = BrowserHost(fast_limits.browser)
    yield browser
    run_async(browser.close)


def check(settings: Settings, host: BrowserHost, *accounts: str) -> list[RunReport]:
    services = open_services(settings)

    async def go() -> list[RunReport]:
        runner = Runner(services, host)
        return list(await asyncio.gather(*(runner.check(settings.account(a)) for a in accounts)))

    try:
        return run_async(go)
    finally:
        services.close()


def test_a_browser_killed_under_a_run_fails_that_run_and_is_relaunched(
    fast_limits: Settings, host: BrowserHost, site: Site
) -> None:
    site.admin.patch_account("library", delay_ms=1500)
    services = open_services(fast_limits)

    async def go() -> tuple[RunReport, RunReport]:
        runner = Runner(services, host)
        run = asyncio.create_task(runner.check(fast_limits.account("library")))
        while not (host.running and host.active):  # a capture is under way
            await asyncio.sleep(0.05)
        for pid in chromium_pids():
            os.kill(pid, signal.SIGKILL)
        first = await run
        site.admin.patch_account("library", delay_ms=0)
        return first, await runner.check(fast_limits.account("library"))

    try:
        first, second = run_async(go)
    finally:
        services.close()
    assert first.status == "failed" and first.error_code in ("capture_failed", "browser", "timeout")
    assert second.status == "ok" and host.launches == 2 and host.crashes >= 1


@pytest.mark.parametrize("trap", ["hang", "jsloop"])
def test_a_page_that_never_finishes_ends_at_the_limit_and_others_keep_going(
    trap: str, fast_limits: Settings, host: BrowserHost, site: Site
) -> None:
    site.admin.patch_account("police", **{trap: True})
    police, library = check(fast_limits, host, "police", "library")
    assert police.status == "failed" and police.error_code == "timeout"
    assert [f["kind"] for f in police.findings] == ["capture_failed"]
    assert library.status == "ok"


def test_a_dialog_storm_does_not_stop_the_capture(fast_limits: Settings, host: BrowserHost, site: Site) -> None:
    site.admin.patch_account("library", dialogs=True)
    [report] = check(fast_limits, host, "library")
    assert report.status == "ok" and report.posts_seen == 12


def test_a_site_that_goes_down_and_comes_back(fast_limits: Settings, host: BrowserHost, site: Site) -> None:
    site.admin.patch_account("library", down=True)
    [down] = check(fast_limits, host, "library")
    assert down.status == "failed" and "HTTP 503" in (down.error or "")
    site.admin.patch_account("library", down=False)
    [back] = check(fast_limits, host, "library")
    assert back.status == "ok"
    services = open_services(fast_limits)
    with services.db.session() as s:
        [finding] = store.query(s, account="library", kind="capture_failed")
    services.close()
    assert finding.status == "resolved" and finding.resolution and "passed again" in finding.resolution
