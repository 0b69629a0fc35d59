"""Taking the page's pixels and markup exactly as rendered."""

from __future__ import annotations

from playwright.async_api import Page


async def full_page_png(page: Page, timeout_ms: int) -> bytes:
    """A full-page PNG screenshot of the page as it is now."""
    return await page.screenshot(full_page=True, type="png", timeout=timeout_ms)


def viewport_of(page: Page) -> tuple[int, int]:
    """The page's viewport as (width, height)."""
    size = page.viewport_size or {"width": 0, "height": 0}
    return (size["width"], size["height"])


def browser_version_of(page: Page) -> str:
    """The version of the browser showing the page."""
    browser = page.context.browser
    return browser.version if browser else "unknown"
