"""How much of a page a full-page screenshot takes: all of it, up to a limit."""

from __future__ import annotations

import pytest

from agent.browser import BrowserHost
from flows.capture import (
    MAX_SCREENSHOT_PIXELS,
    Screenshot,
    ScreenshotEncoding,
    full_page_png,
    screenshot_area,
)
from tests.conftest import png_size, run_async


def test_a_page_within_the_limit_is_taken_whole() -> None:
    assert screenshot_area((1280, 31_851), 1280, 200_000) == (1280, 31_851)
    assert screenshot_area((1279.5, 899.2), 1280, 200_000) == (1280, 900)


def test_a_taller_page_is_cut_at_the_limit() -> None:
    assert screenshot_area((1280, 1_000_000), 1280, 200_000) == (1280, 200_000)


def test_a_wider_page_keeps_its_width_and_the_same_number_of_pixels() -> None:
    assert screenshot_area((2560, 1_000_000), 1280, 200_000) == (2560, 100_000)


def test_a_page_wider_than_the_whole_budget_is_cut_on_both_sides() -> None:
    width, height = screenshot_area((10**12, 10**12), 1280, 200_000)
    assert (width, height) == (1280 * 200_000, 1)


def test_no_screenshot_holds_more_than_chromium_can_capture() -> None:
    width, height = screenshot_area((3840, 10**9), 3840, 300_000)
    assert width == 3840 and width * height <= MAX_SCREENSHOT_PIXELS


TALL = "<body style='margin:0'><div style='height:6000px;background:linear-gradient(#fff,#9cf)'>tall</div></body>"


@pytest.mark.parametrize("encoding", ["fast", "compact"])
def test_both_encoders_take_the_whole_page_or_its_top_at_the_limit(
    shared_browser: BrowserHost, encoding: ScreenshotEncoding
) -> None:
    async def go() -> tuple[Screenshot, Screenshot]:
        async with shared_browser.context() as context:
            page = await context.new_page()
            await page.set_content(TALL)
            return (await full_page_png(page, 30_000, encoding, 200_000),
                    await full_page_png(page, 30_000, encoding, 2_000))

    whole, top = run_async(go)
    assert png_size(whole.png) == (1280, 6000) and whole.cut is None
    assert png_size(top.png) == (1280, 2000)
    assert top.cut == ("the page is 1280 x 6000 px; its screenshot shows the top left 1280 x 2000 px "
                       "([browser] max_screenshot_height = 2000)")
