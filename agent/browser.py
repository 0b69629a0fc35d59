"""One Chromium per process, a fresh context per capture.

Chromium is found by settings: ``[browser] executable_path`` if set, else Playwright's
own build if `playwright install chromium` ran, else the distribution's package.
"""

from __future__ import annotations

import asyncio
import logging
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from agent.errors import BrowserUnavailable
from agent.settings import BrowserSettings

log = logging.getLogger(__name__)

#: Distribution locations, the real binary before its shell wrapper.
SYSTEM_CHROMIUM = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)

#: Without these Chromium phones home at start and stalls where outbound traffic is refused.
QUIET_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)


def playwright_version() -> str:
    return version("playwright")


def find_chromium(configured: Path | None, bundled: str | None) -> Path:
    """The Chromium to launch: configured, else Playwright's build, else the system's."""
    if configured is not None:
        if not configured.is_file() or not os.access(configured, os.X_OK):
            raise BrowserUnavailable(
                f"[browser] executable_path {configured} is not an executable file"
            )
        return configured
    candidates = ([bundled] if bundled else []) + list(SYSTEM_CHROMIUM)
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise BrowserUnavailable(
        "no Chromium found. Install one: `playwright install --with-deps chromium`, or on "
        "Debian `apt-get install chromium`; or set [browser] executable_path"
    )


def launch_args(extra: list[str], running_as_root: bool) -> list[str]:
    """Chromium flags: quiet networking, --no-sandbox only as root, then the configured ones."""
    args = list(QUIET_ARGS)
    if running_as_root:
        # Chromium's sandbox refuses to start as root; a dedicated user is the better fix.
        args.append("--no-sandbox")
    return args + [a for a in extra if a not in args]


def host_allowed(url: str, allowed: list[str]) -> bool:
    """May the browser fetch this URL? Empty allow-list = anything; data:/blob: always; pure."""
    if not allowed:
        return True
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in allowed


async def locate_chromium(settings: BrowserSettings) -> Path:
    """The Chromium civicwatch would launch with these settings (without launching it)."""
    async with async_playwright() as pw:
        return find_chromium(settings.executable_path, pw.chromium.executable_path)


class BrowserHost:
    """Owns Playwright and one Chromium; hands out isolated contexts."""

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()
        self.executable: Path | None = None
        self.launches = 0

    @property
    def version(self) -> str:
        return self._browser.version if self._browser else "not started"

    async def browser(self) -> Browser:
        """The running Chromium, launched (again) if needed."""
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            self._browser = await self._launch(self._playwright)
            return self._browser

    async def _launch(self, pw: Playwright) -> Browser:
        bundled = pw.chromium.executable_path
        self.executable = find_chromium(self.settings.executable_path, bundled)
        args = launch_args(self.settings.args, os.geteuid() == 0)
        try:
            browser = await pw.chromium.launch(
                executable_path=str(self.executable), headless=self.settings.headless, args=args
            )
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown error"
            raise BrowserUnavailable(f"Chromium at {self.executable} failed to start: {first}") from exc
        self.launches += 1
        log.info("launched Chromium %s from %s", browser.version, self.executable)
        return browser

    async def new_context(self, storage_state: dict[str, Any] | None = None) -> BrowserContext:
        """A fresh, isolated context (no cookies unless a saved session is given)."""
        browser = await self.browser()
        s = self.settings
        try:
            context = await browser.new_context(
                viewport={"width": s.viewport_width, "height": s.viewport_height},
                user_agent=s.user_agent,
                storage_state=storage_state,  # type: ignore[arg-type]
                service_workers="block",
                accept_downloads=False,
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(f"cannot open a browser context: {str(exc).splitlines()[0]}") from exc
        if s.allowed_hosts:
            await context.route("**/*", self._guard)
        return context

    async def _guard(self, route: Route) -> None:
        if host_allowed(route.request.url, self.settings.allowed_hosts):
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    async def close(self) -> None:
        """Close Chromium and Playwright."""
        async with self._lock:
            if self._browser is not None:
                try:
                    await self._browser.close()
                except PlaywrightError as exc:
                    log.warning("Chromium did not close cleanly: %s", str(exc).splitlines()[0])
                self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
