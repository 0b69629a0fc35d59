"""Taking the page's pixels and markup exactly as rendered."""

from __future__ import annotations

import asyncio
import base64
import math
from dataclasses import dataclass
from typing import Literal

from playwright.async_api import CDPSession, FloatRect, Page

from agent.errors import CaptureTimeout
from flows.boundary import step

#: "fast": Chromium's speed-optimised PNG encoder (about 3x faster on tall pages, files
#: about 1.5x larger); "compact": Playwright's default encoder. Both are lossless PNG.
ScreenshotEncoding = Literal["fast", "compact"]


#: A screenshot never holds more pixels than this (1.5 GiB as RGBA): Chromium cannot capture
#: 2 GiB or more ("Unable to capture screenshot"), and a hostile page can be any size.
MAX_SCREENSHOT_PIXELS = 384_000_000


@dataclass(frozen=True)
class Screenshot:
    """A full-page PNG, and what was left out of it when the page was too large."""

    png: bytes
    #: None when the whole page is in the picture; else what was cut, in words
    cut: str | None = None


def screenshot_area(content: tuple[float, float], viewport_width: int, max_height: int) -> tuple[int, int]:
    """The width and height to capture from the top left: the whole page, or as much of it as
    ``max_height`` rows of the viewport's width hold (and never past MAX_SCREENSHOT_PIXELS); pure."""
    width = max(1, math.ceil(content[0]))
    height = max(1, math.ceil(content[1]))
    budget = min(max_height * max(viewport_width, 1), MAX_SCREENSHOT_PIXELS)
    width = min(width, budget)
    return width, min(height, max(1, budget // width))


async def full_page_png(page: Page, timeout_ms: int, encoding: ScreenshotEncoding = "fast",
                        max_height: int = 200_000) -> Screenshot:
    """A full-page, lossless PNG screenshot of the page as it is now, cut at ``max_height``
    rows of the viewport's width (see :func:`screenshot_area`)."""
    session = await page.context.new_cdp_session(page)
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            metrics = await session.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            page_w, page_h = math.ceil(size["width"]), math.ceil(size["height"])
            width, height = screenshot_area((page_w, page_h), viewport_of(page)[0], max_height)
            whole = (width, height) == (page_w, page_h)
            if encoding == "compact":
                clip = None if whole else FloatRect(x=0, y=0, width=width, height=height)
                png = await page.screenshot(full_page=True, type="png", clip=clip, timeout=timeout_ms)
            else:
                png = await _capture_beyond_viewport(session, width, height)
    except TimeoutError:
        raise CaptureTimeout(f"taking the full-page screenshot: did not finish within {timeout_ms / 1000:g} s") from None
    finally:
        async with step("closing the screenshot session"):
            await session.detach()
    if whole:
        return Screenshot(png)
    return Screenshot(png, f"the page is {page_w} x {page_h} px; its screenshot shows the top left "
                           f"{width} x {height} px ([browser] max_screenshot_height = {max_height})")


async def _capture_beyond_viewport(session: CDPSession, width: int, height: int) -> bytes:
    """The page's top left ``width`` x ``height`` CSS pixels (beyond the viewport) as PNG, via the
    DevTools protocol, with Chromium's speed-optimised encoder."""
    result = await session.send("Page.captureScreenshot", {
        "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True, "fromSurface": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
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
