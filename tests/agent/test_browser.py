"""The browser host finds the right Chromium, spreads concurrent captures over its Chromiums
and heals a lost one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent import browser as browser_module
from agent.browser import BrowserHost, find_chromium, launch_failure
from agent.errors import BrowserUnavailable
from agent.settings import BrowserSettings, load_settings
from tests.conftest import run_async

SETTINGS = BrowserSettings(allowed_hosts=["127.0.0.1"], keep_warm=True)


def test_concurrent_captures_run_in_separate_chromiums_which_are_reused() -> None:
    host = BrowserHost(SETTINGS, instances=2)

    async def go() -> tuple[bool, bool, int]:
        async with host.context() as first, host.context() as second:
            apart = first.browser is not second.browser
        async with host.context() as third, host.context() as fourth:
            reused = {id(third.browser), id(fourth.browser)} == {id(first.browser), id(second.browser)}
        return apart, reused, host.launches

    try:
        apart, reused, launches = run_async(go)
    finally:
        run_async(host.close)
    assert apart and reused and launches == 2
    assert not host.running


def test_one_instance_serves_every_capture_from_one_chromium() -> None:
    host = BrowserHost(SETTINGS, instances=1)

    async def go() -> bool:
        async with host.context() as first, host.context() as second:
            return first.browser is second.browser

    try:
        assert run_async(go) and host.launches == 1
    finally:
        run_async(host.close)


def test_a_lost_chromium_is_counted_and_relaunched_while_the_other_keeps_serving() -> None:
    host = BrowserHost(SETTINGS, instances=2)

    async def go() -> tuple[bool, str]:
        async with host.context() as survivor:
            async with host.context() as doomed:
                lost = doomed.browser
                assert lost is not None
                await lost.close()  # not through the host: to it, a crash
            page = await survivor.new_page()
            await page.set_content("<p id=alive>alive</p>")
            async with host.context() as replacement:
                fresh = replacement.browser is not lost
            return fresh, await page.inner_text("#alive")

    try:
        fresh, text = run_async(go)
    finally:
        run_async(host.close)
    assert fresh and text == "alive"
    assert host.crashes == 1 and host.launches == 3


def test_instances_default_to_one_chromium_per_concurrent_capture(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert settings.browser_instances() == settings.agent.concurrency
    pinned = settings.model_copy(update={"browser": settings.browser.model_copy(update={"instances": 1})})
    assert pinned.browser_instances() == 1


def test_closing_the_host_leaves_no_chromium_and_can_start_again() -> None:
    host = BrowserHost(SETTINGS, instances=2)

    async def go() -> int:
        async with host.context(), host.context():
            pass
        await host.close()
        async with host.context() as again:
            await asyncio.wait_for(again.new_page(), 30)
        return host.launches

    try:
        assert run_async(go) == 3
    finally:
        run_async(host.close)
    assert not host.running


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def playwright_layout(tmp_path: Path) -> tuple[Path, Path]:
    """Playwright's browsers folder after `playwright install chromium`: the browser and its shell."""
    chrome = _executable(tmp_path / "ms-playwright" / "chromium-1255" / "chrome-linux64" / "chrome")
    shell = _executable(tmp_path / "ms-playwright" / "chromium_headless_shell-1255" /
                        "chrome-headless-shell-linux64" / "chrome-headless-shell")
    return chrome, shell


@pytest.fixture
def system_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The distribution's Chromium and headless shell, in a folder of the test's own."""
    chrome = _executable(tmp_path / "usr" / "chromium")
    shell = _executable(tmp_path / "usr" / "chromium-headless-shell")
    monkeypatch.setattr(browser_module, "SYSTEM_CHROMIUM", (str(chrome),))
    monkeypatch.setattr(browser_module, "SYSTEM_HEADLESS_SHELL", (str(shell),))
    return chrome, shell


def test_headless_captures_prefer_playwrights_headless_shell_to_its_browser(
        playwright_layout: tuple[Path, Path], system_chromium: tuple[Path, Path]) -> None:
    chrome, shell = playwright_layout
    assert find_chromium(None, str(chrome), headless=True) == shell
    assert find_chromium(None, str(chrome), headless=False) == chrome


def test_playwrights_older_shell_layout_is_found_too(tmp_path: Path, system_chromium: tuple[Path, Path]) -> None:
    chrome = _executable(tmp_path / "pw" / "chromium-1148" / "chrome-linux" / "chrome")
    shell = _executable(tmp_path / "pw" / "chromium_headless_shell-1148" / "chrome-linux" / "headless_shell")
    assert find_chromium(None, str(chrome)) == shell


def test_playwrights_browser_without_its_shell_comes_before_the_distributions(
        playwright_layout: tuple[Path, Path], system_chromium: tuple[Path, Path]) -> None:
    chrome, shell = playwright_layout
    shell.unlink()
    assert find_chromium(None, str(chrome)) == chrome


def test_the_distributions_headless_shell_comes_before_its_full_browser(system_chromium: tuple[Path, Path]) -> None:
    chrome, shell = system_chromium
    missing_bundle = "/nonexistent/ms-playwright/chromium-1255/chrome-linux64/chrome"
    assert find_chromium(None, missing_bundle, headless=True) == shell
    assert find_chromium(None, missing_bundle, headless=False) == chrome
    shell.unlink()
    assert find_chromium(None, missing_bundle, headless=True) == chrome


def test_a_configured_executable_wins_and_one_that_cannot_run_is_named(
        tmp_path: Path, playwright_layout: tuple[Path, Path]) -> None:
    mine = _executable(tmp_path / "opt" / "my-chromium")
    assert find_chromium(mine, str(playwright_layout[0])) == mine
    mine.chmod(0o644)
    with pytest.raises(BrowserUnavailable, match=r"executable_path .*my-chromium is not an executable file"):
        find_chromium(mine, str(playwright_layout[0]))


def test_no_chromium_anywhere_says_how_to_install_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_module, "SYSTEM_CHROMIUM", (str(tmp_path / "none"),))
    monkeypatch.setattr(browser_module, "SYSTEM_HEADLESS_SHELL", ())
    with pytest.raises(BrowserUnavailable, match="apt-get install chromium chromium-headless-shell"):
        find_chromium(None, str(tmp_path / "chromium-1255" / "chrome-linux64" / "chrome"))


def test_the_host_launches_the_chromium_that_browser_path_names() -> None:
    host = BrowserHost(SETTINGS, instances=1)

    async def go() -> str:
        async with host.context() as context:
            page = await asyncio.wait_for(context.new_page(), 30)
            return await page.evaluate("() => navigator.userAgent")

    try:
        agent = run_async(go)
    finally:
        run_async(host.close)
    found = run_async(lambda: browser_module.locate_chromium(SETTINGS))
    assert host.executable == found
    assert "HeadlessChrome" in agent


#: what Playwright raised when Chromium 156 could not start headed without a display (trimmed)
NO_DISPLAY = """BrowserType.launch: Target page, context or browser has been closed
Browser logs:

Looks like you launched a headed browser without having a XServer running.
Call log:
  - <launched> pid=21019
  - [pid=21019][err] [21019:21019:1201/100025.343625:ERROR:ui/ozone/platform/x11/ozone_platform_x11.cc:257] Missing X server or $DISPLAY
  - [pid=21019][err] [21019:21019:1201/100025.343685:ERROR:ui/aura/env.cc:253] The platform failed to initialize.  Exiting.
  - [pid=21019][err] [21019:21035:1201/100025.346009:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Failed to connect to socket
  - [pid=21019] <process did exit: exitCode=1, signal=null>
"""


def test_a_failed_start_is_explained_by_what_chromium_said_not_by_playwrights_first_line() -> None:
    assert launch_failure(NO_DISPLAY, headless=False) == (
        "Missing X server or $DISPLAY ([browser] headless = false needs a display; on a server, leave headless on)")
    libs = ("BrowserType.launch: Target page, context or browser has been closed\nCall log:\n"
            "  - [pid=7][err] /opt/chrome/chrome: error while loading shared libraries: libnss3.so: "
            "cannot open shared object file: No such file or directory\n")
    assert launch_failure(libs, headless=True).startswith("/opt/chrome/chrome: error while loading shared libraries: libnss3.so")
    assert launch_failure("BrowserType.launch: spawn /x ENOENT\nCall log:\n  - <launching> /x\n", True) == (
        "BrowserType.launch: spawn /x ENOENT")
    silent = ("BrowserType.launch: Target page, context or browser has been closed\nCall log:\n"
              "  - <launched> pid=9\n  - [pid=9] <process did exit: exitCode=0, signal=null>\n")
    assert launch_failure(silent, True) == (
        "it exited (code 0) without saying why, before Playwright could connect (is it a Chromium?)")


def _refused_to_start(host: BrowserHost, match: str) -> None:
    """Opening a context fails with a BrowserUnavailable matching ``match``; the host is closed after."""

    async def go() -> None:
        async with host.context():
            pass

    try:
        with pytest.raises(BrowserUnavailable, match=match):
            run_async(go)
    finally:
        run_async(host.close)


def test_a_configured_program_that_is_not_chromium_is_named_as_such(tmp_path: Path) -> None:
    host = BrowserHost(BrowserSettings(executable_path=_executable(tmp_path / "not-chromium")), instances=1)

    _refused_to_start(host, r"not-chromium failed to start: it exited \(code 0\).*is it a Chromium")


def test_a_headed_browser_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        find_chromium(None, None, headless=False)
    except BrowserUnavailable:
        pytest.skip("no full Chromium here (only a headless shell)")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    host = BrowserHost(BrowserSettings(headless=False), instances=1)

    _refused_to_start(host, r"failed to start: Missing X server or \$DISPLAY .*leave headless on")
    assert host.last_error is not None and "Missing X server" in host.last_error
