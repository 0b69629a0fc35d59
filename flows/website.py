"""The website adapter: the city's own pages, crawled within one site and captured like a feed.

Each page becomes one item of the snapshot (its id is the page's URL, its text the page's
title and visible text, its links every link on it), so a page that changed is a new
version and every link on it is checked. Each page gets its own screenshot and DOM.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from agent.errors import CaptureError, CaptureTimeout, SiteUnavailable
from flows.base import (
    AccountSpec,
    Artifact,
    CaptureLimits,
    CaptureResult,
    Credentials,
    LoginOutcome,
    Post,
    Profile,
    Snapshot,
    VisitorCapture,
)
from flows.boundary import step

if TYPE_CHECKING:
    from playwright.async_api import Page
from flows.capture import Screenshot, browser_version_of, full_page_png, viewport_of
from flows.webscope import WebsiteScope, follow, page_id

_PAGE_SCRIPT = """() => ({
  title: document.title || '',
  text: (document.body ? document.body.innerText : '').replace(/[ \\t]+/g, ' ').trim(),
  links: Array.from(document.querySelectorAll('a[href], area[href]'), a => a.href).filter(Boolean),
})"""


class WebsiteAdapter:
    """Watches a set of the city's own web pages."""

    name: ClassVar[str] = "website"
    #: a public site has no separate anonymous view: every page is captured without signing in
    has_visitor_view: ClassVar[bool] = False

    def __init__(self, account: AccountSpec, limits: CaptureLimits) -> None:
        self.account = account
        self.limits = limits
        self.scope: WebsiteScope = getattr(account, "website", None) or WebsiteScope()

    @classmethod
    def check_account(cls, account: AccountSpec) -> list[str]:
        scope: WebsiteScope = getattr(account, "website", None) or WebsiteScope()
        problems = []
        for url in (account.url, *scope.start_urls):
            if urlsplit(url).scheme not in ("http", "https"):
                problems.append(f"start page {url!r} is not an http(s) address")
        return problems

    async def login(self, page: Page, credentials: Credentials | None) -> LoginOutcome:
        return LoginOutcome.NOT_NEEDED

    async def visitor_view(self, page: Page) -> VisitorCapture:
        raise NotImplementedError("a website account has no separate visitor view")

    async def snapshot(self, page: Page) -> CaptureResult:
        """Crawl from the start pages, capturing each page."""
        starts = list(dict.fromkeys(page_id(u) for u in (self.account.url, *self.scope.start_urls)))
        queue: deque[tuple[str, int]] = deque((u, 0) for u in starts)
        queued = set(starts)
        pages: list[Post] = []
        artifacts: list[Artifact] = []
        warnings: list[str] = []
        while queue and len(pages) < self.scope.max_pages:
            url, depth = queue.popleft()
            try:
                final, data, shot, dom = await self._capture_within_limit(page, url)
            except CaptureError as exc:
                if url == starts[0] or page.is_closed():
                    raise  # nothing to watch without the first page, nothing to do without the browser
                # One broken page must not cost the others' evidence; its renderer may be hung
                # (a script that never ends), so the next page gets a fresh tab.
                warnings.append(f"page {url} could not be captured: {exc.message}")
                page = await self._fresh_page(page)
                continue
            if shot.cut:
                warnings.append(f"page {final}: {shot.cut}")
            pages.append(Post(id=page_id(final), author=self.account_name, text=f"{data['title']}\n\n{data['text']}",
                              links=tuple(dict.fromkeys(data["links"]))))
            artifacts += [Artifact("screenshot", "image/png", shot.png, final, view="page"),
                          Artifact("dom", "text/html; charset=utf-8", dom, final, view="page")]
            if depth < self.scope.depth:
                site = urlsplit(final).netloc.lower()
                for link in data["links"]:
                    target = page_id(link)
                    if target not in queued and follow(target, site, self.scope):
                        queued.add(target)
                        queue.append((target, depth + 1))
        if queue:
            warnings.append(f"stopped at max_pages = {self.scope.max_pages}; {len(queue)} page(s) not captured")
        first = pages[0]
        snapshot = Snapshot(
            account_id=self.account.id, platform=self.name, requested_url=self.account.url,
            final_url=first.id, user_agent=await page.evaluate("() => navigator.userAgent"),
            viewport=viewport_of(page), browser_version=browser_version_of(page),
            profile=Profile(name=self.account_name), posts=tuple(pages), feed_complete=not queue,
            warnings=tuple(warnings),
        )
        return CaptureResult(snapshot, artifacts)

    @property
    def account_name(self) -> str:
        return str(getattr(self.account, "name", self.account.id))

    async def _capture_within_limit(self, page: Page, url: str) -> tuple[str, dict[str, Any], Screenshot, bytes]:
        """:meth:`_capture_page`, ended when it takes longer than its steps' limits together
        (reading a page whose renderer is hung would otherwise wait for the run's limit)."""
        limits = self.limits
        seconds = (2 * limits.navigation_ms + 2 * limits.step_ms) / 1000
        try:
            async with asyncio.timeout(seconds):
                return await self._capture_page(page, url)
        except TimeoutError:
            raise CaptureTimeout(f"capturing {url}: did not finish within {seconds:g} s") from None

    async def _fresh_page(self, page: Page) -> Page:
        """Close ``page`` and open another in the same context (same cookies, same recording)."""
        context = page.context
        try:
            async with step("replacing the page after a failure"), asyncio.timeout(self.limits.step_ms / 1000):
                await page.close()
                return await context.new_page()
        except TimeoutError:
            raise CaptureTimeout("replacing the page after a failure: Chromium did not answer") from None

    async def _capture_page(self, page: Page, url: str) -> tuple[str, dict[str, Any], Screenshot, bytes]:
        limits = self.limits
        ms = limits.navigation_ms
        async with step(f"opening {url}", ms):
            response = await page.goto(url, wait_until="load", timeout=ms)
        if response is not None and response.status >= 400:
            raise SiteUnavailable(f"opening {url}: the server answered HTTP {response.status}")
        async with step(f"reading {url}", limits.step_ms):
            data: dict[str, Any] = await page.evaluate(_PAGE_SCRIPT)
        async with step(f"taking the full-page screenshot of {url}", ms):
            shot = await full_page_png(page, ms, limits.screenshot_encoding, limits.max_screenshot_height)
        async with step(f"reading the rendered DOM of {url}", limits.step_ms):
            dom = (await page.content()).encode("utf-8")
        return page.url, data, shot, dom
