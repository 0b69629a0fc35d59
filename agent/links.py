"""Link checking for runs and the ``links`` commands: the checker, its cache and its records.

Working links are reused from the cache for ``[links] cache_for``; a link that failed is
asked again on every run, so a flap is not counted twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from agent.settings import LinkSettings
from flows.linkcheck import UNCHECKED_CLASSES, Hop, LinkChecker, LinkResult
from storage import links as link_store
from storage.clock import utcnow
from storage.db import Database
from storage.models import AccountLink, LinkCheck


@dataclass
class LinkOutcome:
    """A run's link check: each published link's result and where it appears."""

    results: dict[str, LinkResult]
    sources: dict[str, list[str]]
    requests: int = 0
    states: list[AccountLink] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        values = self.results.values()
        return {
            "checked": sum(1 for r in values if r.status != "skipped"),
            "broken": sum(1 for r in values if r.broken),
            "skipped": sum(1 for r in values if r.status == "skipped"),
        }

    def unchecked(self) -> dict[str, LinkResult]:
        """Links that could not be checked for a reason on this side (the proxy); their last verdict stands."""
        return {url: r for url, r in self.results.items() if r.error_class in UNCHECKED_CLASSES}


def to_row(result: LinkResult) -> LinkCheck:
    """The cache row of a result; pure."""
    return LinkCheck(
        url_hash=link_store.url_hash(result.url), url=result.url, status=result.status,
        error_class=result.error_class, message=result.message, http_status=result.http_status,
        final_url=result.final_url, redirects=[{"url": h.url, "status": h.status} for h in result.redirects],
        elapsed_ms=result.elapsed_ms, method=result.method, checked_at=result.checked_at,
    )


def from_row(row: LinkCheck) -> LinkResult:
    """A cached result; pure."""
    return LinkResult(
        url=row.url, status=row.status, checked_at=row.checked_at,  # type: ignore[arg-type]
        error_class=row.error_class, message=row.message,  # type: ignore[arg-type]
        http_status=row.http_status, final_url=row.final_url,
        redirects=tuple(Hop(h["url"], h["status"]) for h in row.redirects),
        elapsed_ms=row.elapsed_ms, method=row.method, cached=True,
    )


class LinkService:
    """Checks batches of links, reusing and storing results."""

    def __init__(self, settings: LinkSettings, db: Database) -> None:
        self.settings = settings
        self.db = db

    async def check(self, urls: Iterable[str], use_cache: bool = True) -> tuple[dict[str, LinkResult], int]:
        """Each URL's result, and how many HTTP requests that took."""
        wanted = list(dict.fromkeys(urls))
        known = await asyncio.to_thread(self._cached, wanted) if use_cache else {}
        async with LinkChecker(self.settings.policy(), clock=utcnow) as checker:
            results = await checker.check_all(wanted, known)
            requests = checker.requests
        fresh = [to_row(r) for r in results.values() if not r.cached]
        if fresh:
            await asyncio.to_thread(self._save, fresh)
        return results, requests

    async def check_published(self, sources: Mapping[str, Sequence[str]]) -> LinkOutcome:
        """Check an account's published links (as :func:`agent.detect.links.published_links` lists them)."""
        results, requests = await self.check(sources)
        return LinkOutcome(results, {u: list(s) for u, s in sources.items()}, requests)

    def _cached(self, urls: Sequence[str]) -> dict[str, LinkResult]:
        now = utcnow()
        with self.db.session() as session:
            rows = link_store.cached(session, urls, ok_since=now - self.settings.cache_for, failed_since=now)
            return {url: from_row(row) for url, row in rows.items()}

    def _save(self, rows: Sequence[LinkCheck]) -> None:
        with self.db.session() as session:
            link_store.save_checks(session, rows)


def record_outcome(session: Session, account_id: str, run_id: str, outcome: LinkOutcome) -> list[AccountLink]:
    """Store a run's link results against the account (in the run's transaction).

    :meth:`LinkService.check` stored every result first, each with when its link last worked.
    """
    checks = link_store.checks_for(session, outcome.results)
    unchecked = set(outcome.unchecked())
    return link_store.update_account(session, account_id, run_id, checks, outcome.sources, utcnow(), unchecked)
