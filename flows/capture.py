"""Taking the page's pixels and markup exactly as rendered."""

from __future__ import annotations

import asyncio
import base64
import math
from typing import Literal

from playwright.async_api import CDPSession, Page

from agent.errors import CaptureTimeout
from flows.boundary import step

#: "fast": Chromium's speed-optimised PNG encoder (about 3x faster on tall pages, files
#: about 1.5x larger); "compact": Playwright's default encoder. Both are lossless PNG.
ScreenshotEncoding = Literal["fast", "compact"]


async def full_page_png(page: Page, timeout_ms: int, encoding: ScreenshotEncoding = "fast") -> bytes:
    """A full-page, lossless PNG screenshot of the page as it is now."""
    if encoding == "compact":
        return await page.screenshot(full_page=True, type="png", timeout=timeout_ms)
    session = await page.context.new_cdp_session(page)
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            return await _capture_beyond_viewport(session)
    except TimeoutError:
        raise CaptureTimeout(f"taking the full-page screenshot: did not finish within {timeout_ms / 1000:g} s") from None
    finally:
        async with step("closing the screenshot session"):
            await session.detach()


async def _capture_beyond_viewport(session: CDPSession) -> bytes:
    """The whole page (its full layout size, not just the viewport) as PNG, via the DevTools protocol."""
    metrics = await session.send("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    result = await session.send("Page.captureScreenshot", {
        "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True, "fromSurface": True,
        "clip": {"x": 0, "y": 0, "width": math.ceil(size["width"]), "height": math.ceil(size["height"]), "scale": 1},
    })
    return base64.b64decode(result["data"])


def viewport_of(page: Page) -> tuple[int, int]:
    """The page's viewport as (width, height)."""
    size = page.viewport_size or {"width": 0, "height": 0}
    return (size["width"], size["height"])


def browser_version_of(page: Page) -> str:
    """The version of the browser showing the page."""
    browser = page.context.browser
    return browser.version if browser else "unknown"
