"""The sandbox network's state: accounts, posts, comments, sessions. In memory, thread-safe."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp

PAGE_SIZE = 10


@dataclass
class SbComment:
    id: str
    author: str
    text: str
    time: datetime


@dataclass
class SbPost:
    id: str
    author: str
    text: str
    time: datetime
    publisher: str | None = None
    links: list[str] = field(default_factory=list)
    visitor: bool = False
    image: str | None = None
    comments: list[SbComment] = field(default_factory=list)


@dataclass
class SbAccount:
    slug: str
    name: str
    username: str
    password: str
    bio: str = ""
    links: list[str] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)
    totp_secret: str | None = None
    public_posting: bool = False
    #: the login shows a "confirm it's you" checkpoint instead of signing in
    checkpoint: bool = False
    avatar_color: str = "#2a6f97"
    avatar_version: int = 1
    #: "v1" is the normal markup; "v2" renames every element (a site redesign)
    layout: str = "v1"
    #: answer 503 for this account's pages
    down: bool = False
    #: delay every response for this account's pages by this many milliseconds
    delay_ms: int = 0
    #: the page embeds a resource that never finishes loading
    hang: bool = False
    #: the page runs a JavaScript loop that never ends
    jsloop: bool = False
    #: the page opens alert() dialogs in a storm
    dialogs: bool = False
    #: JavaScript the page runs (for tests of hostile pages)
    script: str = ""
    posts: list[SbPost] = field(default_factory=list)  # newest first

    def post(self, post_id: str) -> SbPost:
        for post in self.posts:
            if post.id == post_id:
                return post
        raise KeyError(post_id)


class SandboxState:
    """Everything the sandbox serves. Mutations take the lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, SbAccount] = {}
        self.sessions: dict[str, str] = {}
        self.pending_otp: dict[str, str] = {}
        self.down = False
        self.delay_ms = 0
        self.site_notice = ""
        #: extra pages of the city's web site, path -> HTML as served (tests of hostile pages)
        self.site_pages: dict[str, str] = {}
        self.login_attempts: dict[str, int] = {}
        #: webhook messages received at /_admin/inbox/NAME (the demo's alert channel)
        self.inbox: list[dict[str, object]] = []
        self._counter = 0

    # -- ids and sessions --------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            return f"{prefix}{self._counter}"

    def replace(self, accounts: list[SbAccount], counter: int) -> None:
        """Swap in freshly seeded accounts and drop every session."""
        with self.lock:
            self.accounts = {a.slug: a for a in accounts}
            self.sessions.clear()
            self.pending_otp.clear()
            self.login_attempts.clear()
            self.inbox.clear()
            self.down = False
            self.delay_ms = 0
            self.site_notice = ""
            self.site_pages = {}
            self._counter = counter

    def account(self, slug: str) -> SbAccount:
        try:
            return self.accounts[slug]
        except KeyError:
            raise KeyError(slug) from None

    def account_for_user(self, username: str) -> SbAccount | None:
        for account in self.accounts.values():
            if account.username == username:
                return account
        return None

    def start_session(self, slug: str) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[token] = slug
        return token

    def session_owner(self, token: str | None) -> str | None:
        return self.sessions.get(token or "")

    def expire_sessions(self, slug: str | None = None) -> int:
        with self.lock:
            doomed = [t for t, s in self.sessions.items() if slug is None or s == slug]
            for token in doomed:
                del self.sessions[token]
            return len(doomed)

    # -- login -------------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> SbAccount | None:
        account = self.account_for_user(username)
        with self.lock:
            self.login_attempts[username] = self.login_attempts.get(username, 0) + 1
        if account is None or not secrets.compare_digest(account.password, password):
            return None
        return account

    @staticmethod
    def check_totp(account: SbAccount, code: str) -> bool:
        if account.totp_secret is None:
            return True
        return pyotp.TOTP(account.totp_secret).verify(code.strip(), valid_window=1)

    # -- content -----------------------------------------------------------------------

    def add_post(self, slug: str, post: SbPost) -> SbPost:
        with self.lock:
            account = self.account(slug)
            account.posts.insert(0, post)
            account.posts.sort(key=lambda p: p.time, reverse=True)
        return post

    def delete_post(self, slug: str, post_id: str) -> None:
        with self.lock:
            account = self.account(slug)
            account.posts.remove(account.post(post_id))

    def add_comment(self, slug: str, post_id: str, comment: SbComment) -> SbComment:
        with self.lock:
            self.account(slug).post(post_id).comments.append(comment)
        return comment

    def delete_comment(self, slug: str, post_id: str, comment_id: str) -> None:
        with self.lock:
            post = self.account(slug).post(post_id)
            kept = [c for c in post.comments if c.id != comment_id]
            if len(kept) == len(post.comments):
                raise KeyError(comment_id)
            post.comments = kept


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
