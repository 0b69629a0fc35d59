"""The browser host spreads concurrent captures over its Chromiums and heals a lost one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.browser import BrowserHost
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
