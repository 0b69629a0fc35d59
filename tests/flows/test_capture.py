"""How much of a page a full-page screenshot takes: all of it, up to a limit (pure)."""

from __future__ import annotations

from flows.capture import MAX_SCREENSHOT_PIXELS, screenshot_area


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
