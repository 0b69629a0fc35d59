"""What a platform adapter is, and the plain data it returns.

An adapter turns a logged-in browser page into a :class:`Snapshot`. It knows
browsers and platforms and nothing about storage, detection or alerts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, SecretStr

if TYPE_CHECKING:
    from playwright.async_api import Page

    from flows.capture import ScreenshotEncoding

    from flows.selectors import LoginSteps, SelectorMap


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Comment(_Frozen):
    """One comment under a post, as the page showed it."""

    id: str
    author: str
    text: str
    time: datetime | None = None
    links: tuple[str, ...] = ()
    #: where it was on the full-page screenshot: x, y, width, height (not part of its content)
    box: tuple[int, int, int, int] | None = None

    def content_hash(self) -> str:
        """Hash of what the comment says, for edit detection."""
        return canonical_hash({"author": self.author, "text": self.text, "links": self.links})


class Post(_Frozen):
    """One post in the feed, with its comments."""

    id: str
    author: str
    publisher: str | None = None
    time: datetime | None = None
    text: str = ""
    links: tuple[str, ...] = ()
    visitor: bool = False
    comments: tuple[Comment, ...] = ()
    #: where it was on the full-page screenshot: x, y, width, height (not part of its content)
    box: tuple[int, int, int, int] | None = None

    def content_hash(self) -> str:
        """Hash of the post's own content (comments are versioned separately)."""
        return canonical_hash(
            {
                "author": self.author,
                "publisher": self.publisher,
                "time": self.time.isoformat() if self.time else None,
                "text": self.text,
                "links": self.links,
                "visitor": self.visitor,
            }
        )


class Profile(_Frozen):
    """The account's public identity: what a takeover would change."""

    name: str = ""
    bio: str = ""
    links: tuple[str, ...] = ()
    avatar_url: str | None = None
    avatar_sha256: str | None = None

    def content_hash(self) -> str:
        """Hash of the profile fields compared between runs."""
        return canonical_hash(self.model_dump(mode="json", exclude={"avatar_url"}))


class VisitorView(_Frozen):
    """What an anonymous visitor (no cookies) saw on the account page."""

    url: str
    final_url: str
    composer_offered: bool
    screenshot_sha256: str | None = None


ArtifactKind = Literal[
    "screenshot", "dom", "visitor_screenshot", "visitor_dom", "snapshot", "avatar", "settings", "warc"
]


@dataclass(frozen=True)
class Artifact:
    """Bytes exactly as captured, with what they are."""

    kind: ArtifactKind
    media_type: str
    data: bytes = field(repr=False)
    url: str | None = None
    #: the capture it belongs to, when not the one its kind implies ("page": one capture per page)
    view: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Snapshot(_Frozen):
    """Everything one capture of one account saw. Artifacts travel beside it."""

    account_id: str
    platform: str
    requested_url: str
    final_url: str
    user_agent: str
    viewport: tuple[int, int]
    browser_version: str
    profile: Profile
    posts: tuple[Post, ...] = ()
    #: True when the feed's end was reached, False when capture stopped at max_posts
    feed_complete: bool = False
    #: True when the owner's settings page says the public may post (None = not checked)
    public_posting_setting: bool | None = None
    visitor: VisitorView | None = None
    session_reused: bool = False
    #: adapter notes for evidence (e.g. "selector 'post' matched nothing")
    warnings: tuple[str, ...] = ()

    def to_json_bytes(self) -> bytes:
        """Canonical JSON of the snapshot, stored as the ``snapshot`` artifact."""
        return canonical_json(self.model_dump(mode="json"))


@dataclass(frozen=True)
class Credentials:
    """Login secrets for one account; never logged, never stored in the DB."""

    username: str
    password: SecretStr
    totp_secret: SecretStr | None = None


@runtime_checkable
class AccountSpec(Protocol):
    """The account settings an adapter reads (agent.settings.Account satisfies this)."""

    id: str
    url: str
    max_posts: int

    @property
    def login(self) -> LoginSteps | None: ...

    @property
    def selectors(self) -> SelectorMap | None: ...


@dataclass(frozen=True)
class CaptureLimits:
    """Time limits for one capture, in milliseconds."""

    navigation_ms: int = 30_000
    step_ms: int = 10_000
    scroll_idle_ms: int = 4_000
    #: "fast" (Chromium's speed-optimised PNG encoder) or "compact" (smaller files, slower)
    screenshot_encoding: ScreenshotEncoding = "fast"
    #: full-page screenshots hold at most this many rows of the viewport's width
    max_screenshot_height: int = 200_000


@dataclass
class CaptureResult:
    """A snapshot plus the artifacts that prove it."""

    snapshot: Snapshot
    artifacts: list[Artifact]


@dataclass
class VisitorCapture:
    """The anonymous visitor's view plus its screenshot."""

    view: VisitorView
    artifacts: list[Artifact]
    #: what the visitor view could not capture whole (e.g. a screenshot cut short)
    warnings: tuple[str, ...] = ()


class LoginOutcome(StrEnum):
    """How :meth:`Platform.login` got the page signed in."""

    NOT_NEEDED = "not_needed"  # the account is read without signing in
    REUSED = "reused"  # the saved session was still valid
    FRESH = "fresh"  # signed in now; the context's session is worth saving


class Platform(Protocol):
    """A platform adapter, built from one account's settings.

    ``name`` is the value of ``platform`` in the config. The runner owns the browser
    contexts; an adapter only drives the pages it is given.
    """

    name: ClassVar[str]

    async def login(self, page: Page, credentials: Credentials | None) -> LoginOutcome:
        """Make ``page``'s context signed in as the owner."""
        ...

    async def snapshot(self, page: Page) -> CaptureResult:
        """Capture the account as its signed-in owner sees it."""
        ...

    async def visitor_view(self, page: Page) -> VisitorCapture:
        """Capture the account as an anonymous visitor sees it (``page`` has no cookies)."""
        ...


def canonical_json(value: object) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode("utf-8")


def canonical_hash(value: object) -> str:
    """sha256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, Sequence)) and not isinstance(value, str):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
