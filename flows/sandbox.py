"""Adapter for the built-in sandbox network (``platform = "sandbox"``).

Like an adapter for a real network, it knows the platform's own markup: the sandbox
marks its elements with ``data-testid`` attributes, as many real networks do, and its
login, one-time-code and settings pages live at fixed paths. It needs no selectors in
the config; only the account URL (``http://host:port/p/<slug>``) and credentials.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from agent.errors import ConfigError
from flows.base import AccountSpec
from flows.generic import GenericAdapter
from flows.selectors import LoginSteps, SelectorMap

SANDBOX_SELECTORS = SelectorMap(
    post="[data-testid=post]",
    post_id="@data-post-id",
    author="[data-testid=post-author]",
    publisher="[data-testid=post-publisher]",
    visitor_post="[data-testid=visitor-badge]",
    time="[data-testid=post-time]@datetime",
    text="[data-testid=post-text]",
    link="[data-testid=post-text] a[href], [data-testid=post-link]",
    comment="[data-testid=comment]",
    comment_id="@data-comment-id",
    comment_author="[data-testid=comment-author]",
    comment_text="[data-testid=comment-text]",
    comment_time="[data-testid=comment-time]@datetime",
    comment_link="[data-testid=comment-text] a[href]",
    visitor_composer="[data-testid=visitor-composer]",
    profile_name="[data-testid=profile-name]",
    profile_bio="[data-testid=profile-bio]",
    profile_links="[data-testid=profile-link]",
    profile_avatar="[data-testid=profile-avatar]@src",
    feed_end="[data-testid=feed-end]",
)


def _slug_and_origin(account: AccountSpec) -> tuple[str, str]:
    parts = urlsplit(account.url)
    path = parts.path.rstrip("/").split("/")
    if len(path) < 3 or path[-2] != "p" or not path[-1]:
        raise ConfigError(
            f"account {account.id!r}: a sandbox url looks like http://HOST:PORT/p/SLUG, "
            f"not {account.url!r}"
        )
    return path[-1], f"{parts.scheme}://{parts.netloc}"


class SandboxAdapter(GenericAdapter):
    """Reads the sandbox network with its built-in knowledge of the markup."""

    name: ClassVar[str] = "sandbox"

    @classmethod
    def selector_map(cls, account: AccountSpec) -> SelectorMap:
        """Built-in selectors; an [accounts.selectors] table, if given, overrides them."""
        return account.selectors or SANDBOX_SELECTORS

    @classmethod
    def login_config(cls, account: AccountSpec) -> LoginSteps:
        """The sandbox's fixed login flow, derived from the account URL."""
        if account.login is not None:
            return account.login
        slug, origin = _slug_and_origin(account)
        return LoginSteps(
            url=f"{origin}/login",  # type: ignore[arg-type]
            username="[data-testid=login-user]",
            password="[data-testid=login-password]",
            submit="[data-testid=login-submit]",
            otp="[data-testid=otp-code]",
            otp_submit="[data-testid=otp-submit]",
            success="[data-testid=signed-in]",
            failure="[data-testid=login-error]",
            checkpoint="[data-testid=checkpoint]",
            settings_url=f"{origin}/settings/{slug}",  # type: ignore[arg-type]
            public_posting_setting="[data-testid=public-posting-toggle]",
        )

    @classmethod
    def check_account(cls, account: AccountSpec) -> list[str]:
        """Problems with the account URL (the only thing this adapter needs)."""
        try:
            _slug_and_origin(account)
        except ConfigError as exc:
            return [exc.message]
        return []
