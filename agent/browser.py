"""The Chromiums captures run in: a fresh context per capture, spread over one Chromium per worker.

Chromium is found by settings: ``[browser] executable_path`` if set, else Playwright's
own build if `playwright install chromium` ran, else the distribution's package. Headless,
the headless shell is preferred to the full browser in each place (see :func:`find_chromium`).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Dialog, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from agent.errors import BrowserUnavailable
from agent.settings import BrowserSettings

log = logging.getLogger(__name__)

#: seconds a context (or Chromium) gets to close before it is killed
CONTEXT_CLOSE_LIMIT = 15
NO_DIALOGS = "window.alert = () => {}; window.confirm = () => false; window.prompt = () => null;"

#: Distribution locations of the headless shell (Debian's ``chromium-headless-shell``).
SYSTEM_HEADLESS_SHELL = (
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
)

#: Distribution locations of the full browser, the real binary before its shell wrapper.
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


def return_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the system (glibc keeps it otherwise)."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): nothing to trim
        return
    libc.malloc_trim(0)


def playwright_version() -> str:
    return version("playwright")


def bundled_headless_shell(bundled: str) -> list[Path]:
    """Where Playwright keeps its headless shell beside its Chromium (``chromium-1255/…/chrome``
    → ``chromium_headless_shell-1255/*/chrome-headless-shell``; ``headless_shell`` in older releases)."""
    chromium_dir = Path(bundled).parent.parent
    _, _, revision = chromium_dir.name.partition("-")
    shell_dir = chromium_dir.parent / f"chromium_headless_shell-{revision}"
    if not revision or not shell_dir.is_dir():
        return []
    return sorted(shell_dir.glob("*/chrome-headless-shell")) + sorted(shell_dir.glob("*/headless_shell"))


def chromium_candidates(bundled: str | None, headless: bool) -> list[Path]:
    """Where to look, in order: Playwright's build, then the distribution's; headless, each
    place's headless shell before its full browser."""
    found: list[Path] = []
    if bundled:
        if headless:
            found += bundled_headless_shell(bundled)
        found.append(Path(bundled))
    if headless:
        found += map(Path, SYSTEM_HEADLESS_SHELL)
    found += map(Path, SYSTEM_CHROMIUM)
    return found


def find_chromium(configured: Path | None, bundled: str | None, headless: bool = True) -> Path:
    """The Chromium to launch: configured, else Playwright's build, else the system's.

    Headless, the headless shell comes first: Chromium without a browser window, which
    Playwright itself runs headless. The full browser in headless mode also builds the
    window's toolbar, starting a renderer for its address-bar popup with every page and
    calling Google at start; on the benchmark it took 1.6x the CPU per capture.
    """
    if configured is not None:
        if not configured.is_file() or not os.access(configured, os.X_OK):
            raise BrowserUnavailable(
                f"[browser] executable_path {configured} is not an executable file"
            )
        return configured
    for path in chromium_candidates(bundled, headless):
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise BrowserUnavailable(
        "no Chromium found. Install one: `playwright install --with-deps chromium`, or on "
        "Debian `apt-get install chromium chromium-headless-shell`; or set [browser] executable_path"
    )


def launch_args(extra: list[str], running_as_root: bool) -> list[str]:
    """Chromium flags: quiet networking, --no-sandbox only as root, then the configured ones."""
    args = list(QUIET_ARGS)
    if running_as_root:
        # Chromium's sandbox refuses to start as root; a dedicated user is the better fix.
        args.append("--no-sandbox")
    return args + [a for a in extra if a not in args]


#: a line Chromium wrote to stderr, as Playwright's call log quotes it, without Chromium's own prefix
_CHROMIUM_SAID = re.compile(r"\[err\]\s*(?:\[[^\]]*\]\s*)?(.+)")
#: what Chromium says on every failed start, whatever the cause
_NOISE = ("Failed to connect to the bus", "dbus", "Fontconfig", "zygote", "Broken pipe", "Exiting")
_EXITED = re.compile(r"process did exit: exitCode=(\w+), signal=(\w+)")


def launch_failure(text: str, headless: bool) -> str:
    """Why Chromium did not start, in one line: the first thing Chromium itself said that is
    not noise, else Playwright's first line; pure."""
    lines = text.strip().splitlines()
    said = [m.group(1).strip() for line in lines if (m := _CHROMIUM_SAID.search(line))]
    useful = [line for line in said if not any(noise in line for noise in _NOISE)]
    exited = _EXITED.search(text)
    if useful:
        reason = useful[0]
    elif exited:
        how = f"signal {exited[2]}" if exited[2] != "null" else f"code {exited[1]}"
        reason = f"it exited ({how}) without saying why, before Playwright could connect (is it a Chromium?)"
    else:
        reason = lines[0] if lines else "unknown error"
    if not headless and ("X server" in text or "$DISPLAY" in text):
        reason += " ([browser] headless = false needs a display; on a server, leave headless on)"
    return reason


def host_allowed(url: str, allowed: list[str]) -> bool:
    """May the browser fetch this URL? Empty allow-list = anything; data:/blob: always; pure."""
    if not allowed:
        return True
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in allowed


def chromium_for(settings: BrowserSettings, pw: Playwright) -> Path:
    """The Chromium these settings launch, given Playwright's own build."""
    return find_chromium(settings.executable_path, pw.chromium.executable_path, settings.headless)


async def locate_chromium(settings: BrowserSettings) -> Path:
    """The Chromium civicwatch would launch with these settings (without launching it)."""
    async with async_playwright() as pw:
        return chromium_for(settings, pw)


async def _dismiss(dialog: Dialog) -> None:
    try:
        await dialog.dismiss()
    except PlaywrightError as exc:  # the page closed first: nothing left to dismiss
        log.debug("dialog already gone: %s", str(exc).splitlines()[0])


@dataclass
class _Chromium:
    """One Chromium of the host's set and how many contexts it is serving."""

    index: int
    browser: Browser | None = None
    active: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def connected(self) -> bool:
        return self.browser is not None and self.browser.is_connected()


class BrowserHost:
    """Owns Playwright and up to ``instances`` Chromiums; hands out isolated contexts.

    Each new context goes to the Chromium serving the fewest, so with one Chromium per
    concurrent capture two captures never queue behind each other's screenshot in one
    browser process (measured at concurrency 2 on 2 cores: civicwatch 0.29 -> 0.34
    pages/s, a screenshot-only loop 0.37 -> 0.56). A
    Chromium is launched on first use, relaunched if it crashed or disconnected, all are
    recycled after ``recycle_after`` runs (to bound memory), and closed when no capture is
    running unless ``keep_warm`` is set.
    """

    def __init__(self, settings: BrowserSettings, instances: int = 1) -> None:
        self.settings = settings
        self._playwright: Playwright | None = None
        self._chromiums = [_Chromium(i) for i in range(max(1, instances))]
        self._lock = asyncio.Lock()
        self._closing: set[int] = set()  # id() of each Chromium being closed on purpose
        self._idle_close: asyncio.TimerHandle | None = None
        self.executable: Path | None = None
        self.launches = 0
        self.crashes = 0
        self.active = 0
        self.runs_since_launch = 0
        self.last_error: str | None = None

    @property
    def version(self) -> str:
        browser = next((c.browser for c in self._chromiums if c.browser is not None), None)
        return browser.version if browser else "not started"

    @property
    def running(self) -> bool:
        return any(c.connected for c in self._chromiums)

    async def _playwright_started(self) -> Playwright:
        async with self._lock:
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            return self._playwright

    async def _browser_of(self, chromium: _Chromium) -> Browser:
        """This slot's running Chromium, launched (again) if needed."""
        async with chromium.lock:
            if chromium.browser is not None and chromium.connected:
                return chromium.browser
            pw = await self._playwright_started()
            try:
                chromium.browser = await self._launch(pw)
            except BrowserUnavailable as exc:
                self.last_error = exc.message
                raise
            self.last_error = None
            return chromium.browser

    async def _launch(self, pw: Playwright) -> Browser:
        self.executable = chromium_for(self.settings, pw)
        args = launch_args(self.settings.args, os.geteuid() == 0)
        try:
            browser = await pw.chromium.launch(
                executable_path=str(self.executable), headless=self.settings.headless, args=args
            )
        except PlaywrightError as exc:
            reason = launch_failure(str(exc), self.settings.headless)
            raise BrowserUnavailable(f"Chromium at {self.executable} failed to start: {reason}") from exc
        browser.on("disconnected", self._on_disconnect)
        self.launches += 1
        log.info("launched Chromium %s from %s", browser.version, self.executable)
        return browser

    def _on_disconnect(self, browser: Browser) -> None:
        if id(browser) not in self._closing:
            self.crashes += 1
            self.last_error = "Chromium disconnected unexpectedly (crashed or was killed)"
            log.warning("Chromium disconnected unexpectedly; it will be relaunched for the next capture")
        self._forget(browser)

    def _forget(self, browser: Browser) -> None:
        """The slot that held this Chromium holds none now (the next context launches one)."""
        for chromium in self._chromiums:
            if chromium.browser is browser:
                chromium.browser = None

    @asynccontextmanager
    async def context(
        self, storage_state: dict[str, Any] | None = None, har: Path | None = None
    ) -> AsyncIterator[BrowserContext]:
        """A fresh, isolated context for one capture, closed (within a bound) afterwards.

        With ``har``, the context's traffic (bodies included) is written there on close.
        """
        if self._idle_close is not None:
            self._idle_close.cancel()
            self._idle_close = None
        chromium = min(self._chromiums, key=lambda c: (c.active, not c.connected, c.index))
        chromium.active += 1
        self.active += 1
        try:
            context = await self._new_context(chromium, storage_state, har)
            try:
                yield context
            finally:
                await self._close_context(context)
        finally:
            chromium.active -= 1
            self.active -= 1
            if self.active == 0:
                self._after_last_context()

    async def _close_context(self, context: BrowserContext) -> None:
        try:
            async with asyncio.timeout(CONTEXT_CLOSE_LIMIT):
                await context.close()
        except TimeoutError:
            log.warning("a browser context did not close within %s s; restarting Chromium", CONTEXT_CLOSE_LIMIT)
            await self._close_one(context.browser)
        except PlaywrightError as exc:
            log.debug("context already gone: %s", str(exc).splitlines()[0])

    def count_run(self) -> None:
        """Note one finished run (for recycling)."""
        self.runs_since_launch += 1

    def _after_last_context(self) -> None:
        recycle = self.runs_since_launch >= self.settings.recycle_after
        if not recycle and self.settings.keep_warm:
            return
        delay = 0.0 if recycle else self.settings.idle_close_after.total_seconds()
        loop = asyncio.get_running_loop()
        self._idle_close = loop.call_later(delay, lambda: loop.create_task(self._close_if_idle(idle=not recycle)))

    async def _close_if_idle(self, idle: bool) -> None:
        if self.active != 0:
            return
        await self.close_browser()
        if idle and self.active == 0:
            # Idle until the next run: Playwright's driver process goes too, and the heap the
            # captures freed goes back to the system (the daemon then rests at ~120 MB, not ~170 MB).
            await self._stop_playwright()
            return_freed_memory()

    async def _new_context(
        self, chromium: _Chromium, storage_state: dict[str, Any] | None, har: Path | None
    ) -> BrowserContext:
        """A fresh, isolated context in this Chromium (no cookies unless a saved session is given)."""
        browser = await self._browser_of(chromium)
        s = self.settings
        recording: dict[str, Any] = {"record_har_path": str(har), "record_har_content": "embed"} if har else {}
        try:
            context = await browser.new_context(
                viewport={"width": s.viewport_width, "height": s.viewport_height},
                user_agent=s.user_agent,
                storage_state=storage_state,  # type: ignore[arg-type]
                service_workers="block",
                accept_downloads=False,
                **recording,
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(f"cannot open a browser context: {str(exc).splitlines()[0]}") from exc
        if s.allowed_hosts:
            await context.route("**/*", self._guard)
        # A page firing alert() in a loop can keep a navigation from ever committing (with
        # request interception on, reliably). Dialogs never show in screenshots, so they are
        # silenced at the source; the rest (beforeunload) are dismissed as they come.
        await context.add_init_script(NO_DIALOGS)
        context.on("dialog", _dismiss)
        return context

    async def _guard(self, route: Route) -> None:
        if host_allowed(route.request.url, self.settings.allowed_hosts):
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    async def close_browser(self) -> None:
        """Close every Chromium (Playwright stays up for the next launch)."""
        for chromium in self._chromiums:
            async with chromium.lock:
                browser, chromium.browser = chromium.browser, None
                await self._close_one(browser)
        self.runs_since_launch = 0

    async def _close_one(self, browser: Browser | None) -> None:
        if browser is None:
            return
        self._forget(browser)
        self._closing.add(id(browser))
        try:
            async with asyncio.timeout(CONTEXT_CLOSE_LIMIT):
                await browser.close()
        except (PlaywrightError, TimeoutError) as exc:
            log.warning("Chromium did not close cleanly: %s", str(exc).splitlines()[0] if str(exc) else "timeout")
        finally:
            self._closing.discard(id(browser))

    async def close(self) -> None:
        """Close Chromium and Playwright."""
        if self._idle_close is not None:
            self._idle_close.cancel()
        await self.close_browser()
        await self._stop_playwright()

    async def _stop_playwright(self) -> None:
        async with self._lock:
            if self._playwright is not None and not any(c.browser for c in self._chromiums):
                await self._playwright.stop()
                self._playwright = None
