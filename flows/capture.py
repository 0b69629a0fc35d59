"""Taking the page's pixels and markup exactly as rendered."""

from __future__ import annotations

from playwright.async_api import Page


async def full_page_png(page: Page, timeout_ms: int) -> bytes:
    """A full-page PNG screenshot of the page as it is now."""
    return await page.screenshot(full_page=True, type="png", timeout=timeout_ms)
