"""Which of the city's pages a ``website`` account watches: the scope setting and the crawl rule; pure.

Kept apart from :mod:`flows.website` (which drives the browser) so that reading settings
does not import Playwright.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.units import check_patterns
from flows.linkfacts import is_file_path


class WebsiteScope(BaseModel):
    """``[accounts.website]``: which of the city's pages a ``website`` account watches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: more pages to start from, besides the account's url
    start_urls: list[str] = []
    #: how many links deep to follow from a start page (0: the start pages only)
    depth: int = Field(1, ge=0, le=10)
    max_pages: int = Field(20, ge=1, le=1000)
    #: regular expressions: follow only URLs matching one of these (all when empty)
    include: list[str] = []
    #: regular expressions: never follow URLs matching one of these
    exclude: list[str] = []

    @field_validator("include", "exclude")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return check_patterns(patterns)


def page_id(url: str) -> str:
    """A page's identity: its URL without the fragment; pure."""
    return urldefrag(url)[0]


def follow(url: str, site: str, scope: WebsiteScope) -> bool:
    """Is this link a page of the same site, inside the include/exclude patterns? pure."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != site or is_file_path(url):
        return False
    if scope.include and not any(re.search(p, url) for p in scope.include):
        return False
    return not any(re.search(p, url) for p in scope.exclude)
