"""The generic adapter: any platform, driven entirely by CSS selectors from the config."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pyotp
from playwright.async_api import Page, Response

from agent.errors import Blocked, ConfigError, LoginFailed, LoginRequired, SiteUnavailable
from flows.base import (
    AccountSpec,
    Artifact,
    CaptureLimits,
    CaptureResult,
    Comment,
    Credentials,
    LoginOutcome,
    Post,
    Profile,
    Snapshot,
    VisitorCapture,
    VisitorView,
)
from flows.boundary import first_line, step, waited
from flows.capture import browser_version_of, full_page_png, viewport_of
from flows.selectors import COUNT_SCRIPT, EXTRACT_SCRIPT, LoginSteps, SelectorMap, split_field_selector

_MORE_SCRIPT = """([css, endCss, n]) =>
  document.querySelectorAll(css).length > n || (endCss !== null && document.querySelector(endCss) !== null)"""
_SCROLL_SCRIPT = "() => window.scrollTo(0, document.documentElement.scrollHeight)"
_AVATAR_MAX_BYTES = 5 * 1024 * 1024


class GenericAdapter:
    """Reads any page from ``[accounts.selectors]`` and logs in with ``[accounts.login]``."""

    name: ClassVar[str] = "generic"

    def __init__(self, account: AccountSpec, limits: CaptureLimits) -> None:
        self.account = account
        self.limits = limits
        self.selectors = self.selector_map(account)
        self.login_steps = self.login_config(account)
        self._on_account_page = False
        self._warnings: list[str] = []

    # -- configuration ---------------------------------------------------------------

    @classmethod
    def selector_map(cls, account: AccountSpec) -> SelectorMap:
        """The selectors to read the page with; the generic adapter needs them configured."""
        if account.selectors is None:
            raise ConfigError(
                f"account {account.id!r}: platform {cls.name!r} needs an [accounts.selectors] table"
            )
        return account.selectors

    @classmethod
    def login_config(cls, account: AccountSpec) -> LoginSteps | None:
        """The login steps, or None for a page read without signing in."""
        return account.login

    @classmethod
    def check_account(cls, account: AccountSpec) -> list[str]:
        """Problems with an account's settings for this adapter (empty when usable)."""
        try:
            cls.selector_map(account)
        except ConfigError as exc:
            return [exc.message]
        return []

    # -- Platform protocol -----------------------------------------------------------

    async def login(self, page: Page, credentials: Credentials | None) -> LoginOutcome:
        """Sign in as the owner, reusing the context's saved session while it is valid."""
        await self._open_account_page(page)
        steps = self.login_steps
        if steps is None:
            return LoginOutcome.NOT_NEEDED
        if await self._signed_in(page, steps):
            return LoginOutcome.REUSED
        if credentials is None:
            raise LoginRequired(f"account {self.account.id!r} is not signed in and needs its credentials")
        await self._submit_login(page, steps, credentials)
        self._on_account_page = False
        return LoginOutcome.FRESH

    async def snapshot(self, page: Page) -> CaptureResult:
        """Capture the feed as the signed-in owner sees it."""
        if not self._on_account_page:
            await self._open_account_page(page)
        await self._wait_for_content(page)
        feed_end = await self._scroll_feed(page)
        async with step("reading posts and profile from the page", self.limits.step_ms):
            data: dict[str, Any] = await page.evaluate(
                EXTRACT_SCRIPT, self.selectors.as_script_arg()
            )
        self._warnings.extend(str(e) for e in data.get("errors", []))
        feed_png = await self._screenshot(page, "the feed", self._warnings)
        artifacts = [
            Artifact("screenshot", "image/png", feed_png, page.url),
            Artifact("dom", "text/html; charset=utf-8", await self._dom(page), page.url),
        ]
        profile = await self._profile(page, data["profile"], artifacts)
        posts = self._posts(data["posts"])
        setting = await self._public_posting_setting(page, artifacts)
        snapshot = Snapshot(
            account_id=self.account.id,
            platform=self.name,
            requested_url=self.account.url,
            final_url=artifacts[0].url or page.url,
            user_agent=await page.evaluate("() => navigator.userAgent"),
            viewport=viewport_of(page),
            browser_version=browser_version_of(page),
            profile=profile,
            posts=tuple(posts[: self.account.max_posts]),
            feed_complete=bool(data.get("feed_end")) or feed_end,
            public_posting_setting=setting,
            warnings=tuple(self._warnings),
        )
        return CaptureResult(snapshot=snapshot, artifacts=artifacts)

    async def visitor_view(self, page: Page) -> VisitorCapture:
        """Open the page with no cookies and record whether a composer is offered."""
        url = self.account.url
        await self._goto(page, url, f"opening {url} as an anonymous visitor")
        await self._wait_for_content(page)
        composer = False
        css = self._css("visitor_composer")
        if css:
            async with step("looking for a visitor composer", self.limits.step_ms):
                loc = page.locator(css).first
                composer = await loc.count() > 0 and await loc.is_visible()
        notes: list[str] = []
        png = await self._screenshot(page, "the visitor's view", notes)
        shot = Artifact("visitor_screenshot", "image/png", png, page.url)
        dom = Artifact("visitor_dom", "text/html; charset=utf-8", await self._dom(page), page.url)
        view = VisitorView(
            url=url, final_url=page.url, composer_offered=composer, screenshot_sha256=shot.sha256
        )
        return VisitorCapture(view=view, artifacts=[shot, dom], warnings=tuple(notes))

    # -- navigation ------------------------------------------------------------------

    async def _goto(self, page: Page, url: str, what: str) -> Response | None:
        ms = self.limits.navigation_ms
        async with step(what, ms):
            response = await page.goto(url, wait_until="load", timeout=ms)
        if response is not None and response.status >= 400:
            raise SiteUnavailable(f"{what}: the server answered HTTP {response.status}")
        return response

    async def _open_account_page(self, page: Page) -> None:
        await self._goto(page, self.account.url, f"opening {self.account.url}")
        self._on_account_page = True

    async def _wait_for_any(self, page: Page, selectors: list[str | None], ms: int) -> bool:
        """Wait until one of the selectors is attached; False after ``ms`` without one."""
        combined = ", ".join(s for s in selectors if s)
        if not combined:
            return False
        wait = page.wait_for_selector(combined, state="attached", timeout=ms)
        return await waited(wait, "waiting for the page", ms)

    async def _wait_for_content(self, page: Page) -> None:
        found = await self._wait_for_any(
            page, [self._css("post"), self._css("profile_name")], self.limits.step_ms
        )
        if not found:
            self._warnings.append(
                f"neither posts ({self.selectors.post!r}) nor the profile name "
                f"({self.selectors.profile_name!r}) appeared within {self.limits.step_ms} ms"
            )

    # -- login -----------------------------------------------------------------------

    async def _signed_in(self, page: Page, steps: LoginSteps) -> bool:
        await self._wait_for_any(
            page,
            [steps.success, self._css("post"), self._css("profile_name"), steps.username],
            self.limits.step_ms,
        )
        return await page.locator(steps.success).count() > 0

    async def _submit_login(self, page: Page, steps: LoginSteps, creds: Credentials) -> None:
        await self._goto(page, str(steps.url), f"opening the login page {steps.url}")
        ms = self.limits.step_ms
        async with step(f"filling the login form (fields {steps.username}, {steps.password})", ms):
            await page.fill(steps.username, creds.username, timeout=ms)
            await page.fill(steps.password, creds.password.get_secret_value(), timeout=ms)
            await page.click(steps.submit, timeout=ms)
        if await self._login_outcome(page, steps) != "otp":
            return
        if creds.totp_secret is None:
            raise LoginFailed("the site asks for a one-time code but no totp_secret is configured")
        code = pyotp.TOTP(creds.totp_secret.get_secret_value()).now()
        assert steps.otp is not None
        async with step(f"entering the one-time code ({steps.otp})", ms):
            await page.fill(steps.otp, code, timeout=ms)
            if steps.otp_submit:
                await page.click(steps.otp_submit, timeout=ms)
            else:
                await page.press(steps.otp, "Enter", timeout=ms)
        if await self._login_outcome(page, steps, otp_allowed=False) == "otp":
            raise LoginFailed("the one-time code was not accepted")

    async def _login_outcome(self, page: Page, steps: LoginSteps, otp_allowed: bool = True) -> str:
        """Wait for success, failure, checkpoint or an OTP prompt; raise on the bad ones."""
        outcomes = {
            "checkpoint": steps.checkpoint,
            "failure": steps.failure,
            "otp": steps.otp if otp_allowed else None,
            "success": steps.success,
        }
        wanted = [css for css in outcomes.values() if css]
        ms = self.limits.step_ms
        wait = page.wait_for_selector(", ".join(wanted), state="visible", timeout=ms)
        if not await waited(wait, "waiting for the login result", ms):
            raise LoginFailed(
                f"after signing in, none of success ({steps.success})"
                + (f", failure ({steps.failure})" if steps.failure else "")
                + f" appeared within {ms / 1000:g} s"
            )
        for outcome, css in outcomes.items():
            if css and await page.locator(css).count() > 0 and await page.locator(css).first.is_visible():
                if outcome == "checkpoint":
                    raise Blocked("the site shows a CAPTCHA or checkpoint; a person must sign in once")
                if outcome == "failure":
                    text = first_line(await page.locator(css).first.inner_text())
                    raise LoginFailed(f"the site refused the login: {text or '(no message)'}")
                return outcome
        return "success"

    # -- feed ------------------------------------------------------------------------

    async def _scroll_feed(self, page: Page) -> bool:
        """Scroll until max_posts are loaded; True when the feed-end marker appeared."""
        post_css = self._css("post")
        end_css = self._css("feed_end")
        ms = self.limits.scroll_idle_ms
        for _ in range(self.account.max_posts + 1):
            count = await page.evaluate(COUNT_SCRIPT, post_css)
            if count == 0 or count >= self.account.max_posts:
                return False  # nothing matched (the page is not what we expect) or enough loaded
            if end_css and await page.locator(end_css).count() > 0:
                return True
            async with step("scrolling the feed", ms):
                await page.evaluate(_SCROLL_SCRIPT)
            more = page.wait_for_function(_MORE_SCRIPT, arg=[post_css, end_css, count], timeout=ms)
            if not await waited(more, "waiting for more posts", ms):
                self._warnings.append(f"feed stopped growing at {count} posts")
                return False
        return False

    def _posts(self, raw: list[dict[str, Any]]) -> list[Post]:
        posts: list[Post] = []
        if not raw:
            self._warnings.append(f"selector post ({self.selectors.post!r}) matched nothing")
        for item in raw:
            post_id = item.get("id") or _fallback_id("p", item)
            comments = tuple(
                Comment(
                    id=c.get("id") or _fallback_id(f"{post_id}/c", c),
                    author=c.get("author") or "",
                    text=c.get("text") or "",
                    time=self._time(c.get("time")),
                    links=tuple(c.get("links") or ()),
                    box=_box(c.get("box")),
                )
                for c in item.get("comments", [])
            )
            posts.append(
                Post(
                    id=post_id,
                    author=item.get("author") or "",
                    publisher=item.get("publisher") or None,
                    time=self._time(item.get("time")),
                    text=item.get("text") or "",
                    links=tuple(item.get("links") or ()),
                    visitor=bool(item.get("visitor")),
                    comments=comments,
                    box=_box(item.get("box")),
                )
            )
        return posts

    def _time(self, value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self._warnings.append(f"unreadable time {value[:40]!r}")
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    # -- profile and settings --------------------------------------------------------

    async def _profile(
        self, page: Page, raw: Mapping[str, Any], artifacts: list[Artifact]
    ) -> Profile:
        if not raw.get("name"):
            self._warnings.append(
                f"selector profile_name ({self.selectors.profile_name!r}) matched nothing"
            )
        avatar_url = raw.get("avatar")
        avatar = await self._fetch_avatar(page, avatar_url) if avatar_url else None
        if avatar is not None:
            artifacts.append(avatar)
        return Profile(
            name=raw.get("name") or "",
            bio=raw.get("bio") or "",
            links=tuple(raw.get("links") or ()),
            avatar_url=avatar_url,
            avatar_sha256=avatar.sha256 if avatar else None,
        )

    async def _fetch_avatar(self, page: Page, url: str) -> Artifact | None:
        if not url.startswith(("http://", "https://")):
            return None
        async with step(f"fetching the avatar {url}", self.limits.step_ms):
            response = await page.request.get(url, timeout=self.limits.step_ms)
            if not response.ok:
                self._warnings.append(f"avatar {url} answered HTTP {response.status}")
                return None
            body = await response.body()
        if len(body) > _AVATAR_MAX_BYTES:
            self._warnings.append(f"avatar {url} is larger than 5 MB; not stored")
            return None
        media = response.headers.get("content-type", "application/octet-stream")
        return Artifact("avatar", media, body, url)

    async def _public_posting_setting(self, page: Page, artifacts: list[Artifact]) -> bool | None:
        steps = self.login_steps
        if steps is None or not steps.settings_url or not steps.public_posting_setting:
            return None
        url = str(steps.settings_url)
        await self._goto(page, url, f"opening the settings page {url}")
        self._on_account_page = False
        ms = self.limits.step_ms
        async with step(f"reading the public posting setting ({steps.public_posting_setting})", ms):
            enabled = await page.locator(steps.public_posting_setting).first.is_checked(timeout=ms)
        png = await self._screenshot(page, "the settings page", self._warnings)
        artifacts.append(Artifact("settings", "image/png", png, url))
        return enabled

    # -- helpers ---------------------------------------------------------------------

    def _css(self, key: str) -> str | None:
        value = getattr(self.selectors, key)
        return split_field_selector(value)[0] if value else None

    async def _screenshot(self, page: Page, what: str, notes: list[str]) -> bytes:
        """A full-page screenshot of ``what``; a note in ``notes`` when the page was too tall for it."""
        limits = self.limits
        async with step(f"taking the full-page screenshot of {what}", limits.navigation_ms):
            shot = await full_page_png(page, limits.navigation_ms, limits.screenshot_encoding,
                                       limits.max_screenshot_height)
        if shot.cut:
            notes.append(f"{what}: {shot.cut}")
        return shot.png

    async def _dom(self, page: Page) -> bytes:
        async with step("reading the rendered DOM", self.limits.step_ms):
            return (await page.content()).encode("utf-8")


def _fallback_id(prefix: str, item: Mapping[str, Any]) -> str:
    """A stable id for an item the page gave no id for (an edit then looks like a new item)."""
    basis = f"{item.get('author')}\x1f{item.get('time')}\x1f{item.get('text')}"
    return f"{prefix}:h{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


def _box(value: Any) -> tuple[int, int, int, int] | None:
    if isinstance(value, list) and len(value) == 4 and all(isinstance(v, int | float) for v in value):
        return (int(value[0]), int(value[1]), int(value[2]), int(value[3]))
    return None
