"""One capture run of one account, end to end: browser -> adapter -> archive -> report.

A failure anywhere becomes a recorded, failed run with its reason; it never takes other
accounts down and never loses what earlier runs stored.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from agent import __version__
from agent.browser import BrowserHost, playwright_version
from agent.errors import BrowserUnavailable, CaptureError, CaptureTimeout, CivicwatchError, LoginFailed
from agent.records import observations, profile_input
from agent.redact import redact
from agent.services import Services
from agent.settings import Account
from flows import registry
from flows.base import Artifact, CaptureResult, LoginOutcome, Platform, VisitorCapture
from storage.archive import ArtifactInput, CaptureInput
from storage.clock import utcnow
from storage.models import Run

log = logging.getLogger(__name__)

_VIEW_OF_KIND = {"visitor_screenshot": "visitor", "visitor_dom": "visitor", "settings": "settings"}


def new_run_id(now: datetime) -> str:
    """Sortable, readable, unique: ``20261120T230501Z-1f2e3d4c``."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


@dataclass
class Captured:
    """What the browser produced for one run, before anything is stored."""

    result: CaptureResult
    login: LoginOutcome
    visitor: VisitorCapture | None
    visitor_error: str | None


@dataclass
class RunReport:
    """The outcome of one run, as `check --json` prints it."""

    run_id: str
    account: str
    status: str
    error: str | None = None
    error_code: str | None = None
    captures: list[dict[str, Any]] = field(default_factory=list)
    posts_seen: int = 0
    posts_new: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, int] = field(default_factory=lambda: {"checked": 0, "broken": 0})

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "account": self.account,
            "status": self.status,
            "error": self.error,
            "error_code": self.error_code,
            "captures": self.captures,
            "posts_seen": self.posts_seen,
            "posts_new": self.posts_new,
            "findings": self.findings,
            "links": self.links,
        }


class Runner:
    """Runs captures for accounts with one shared browser."""

    def __init__(self, services: Services, browser: BrowserHost) -> None:
        self.services = services
        self.archive = services.archive
        self.browser = browser
        self.settings = services.settings
        self.limits = self.settings.browser.limits()

    async def check_many(self, accounts: Iterable[Account]) -> AsyncIterator[RunReport]:
        """Run accounts, up to ``[agent] concurrency`` at once; yield reports as they finish."""
        gate = asyncio.Semaphore(self.settings.agent.concurrency)

        async def one(account: Account) -> RunReport:
            async with gate:
                return await self.check(account)

        tasks = [asyncio.create_task(one(a), name=f"run:{a.id}") for a in accounts]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def check(self, account: Account) -> RunReport:
        """Capture one account and record the run, whatever happens."""
        run = Run(
            id=new_run_id(utcnow()),
            account_id=account.id,
            platform=account.platform,
            requested_url=account.url,
            tool_version=__version__,
            playwright_version=playwright_version(),
            host=socket.gethostname(),
        )
        await asyncio.to_thread(self.archive.start_run, run)
        ctx = logging.LoggerAdapter(log, {"run_id": run.id, "account": account.id})
        ctx.info("capture started: %s", account.url)
        limit = self.settings.agent.run_timeout
        try:
            async with asyncio.timeout(limit.total_seconds()):
                captured = await self._capture(account)
        except TimeoutError:
            return await self._failed(run, CaptureTimeout(f"the run exceeded its limit of {limit}"), ctx)
        except (CaptureError, BrowserUnavailable) as exc:
            return await self._failed(run, exc, ctx)
        except asyncio.CancelledError:
            await asyncio.shield(asyncio.to_thread(self._interrupted, run.id))
            raise
        report = await asyncio.to_thread(self._record, run, account, captured)
        ctx.info("capture ok: %d posts (%d new)", report.posts_seen, report.posts_new)
        return report

    # -- browser side ------------------------------------------------------------------

    async def _capture(self, account: Account) -> Captured:
        adapter: Platform = registry.get(account.platform)(account, self.limits)
        credentials = account.credentials.resolved() if account.credentials else None
        sessions = self.services.sessions
        owner = await self.browser.new_context(storage_state=sessions.load(account.id))
        try:
            page = await owner.new_page()
            try:
                outcome = await adapter.login(page, credentials)
            except LoginFailed:
                sessions.forget(account.id)
                raise
            if outcome is LoginOutcome.FRESH:
                sessions.save(account.id, dict(await owner.storage_state()))
            result = await adapter.snapshot(page)
        finally:
            await _close(owner)
        visitor, visitor_error = await self._visitor_view(adapter)
        return Captured(result, outcome, visitor, visitor_error)

    async def _visitor_view(self, adapter: Platform) -> tuple[VisitorCapture | None, str | None]:
        """The anonymous view; its failure is recorded but does not fail the run."""
        context = await self.browser.new_context()
        try:
            page = await context.new_page()
            return await adapter.visitor_view(page), None
        except CaptureError as exc:
            return None, exc.message
        finally:
            await _close(context)

    # -- storage side (runs in a worker thread) ------------------------------------------

    def _record(self, run: Run, account: Account, captured: Captured) -> RunReport:
        snapshot = captured.result.snapshot.model_copy(
            update={
                "visitor": captured.visitor.view if captured.visitor else None,
                "session_reused": captured.login is LoginOutcome.REUSED,
                "warnings": captured.result.snapshot.warnings
                + ((f"visitor view failed: {captured.visitor_error}",) if captured.visitor_error else ()),
            }
        )
        artifacts = list(captured.result.artifacts)
        artifacts += captured.visitor.artifacts if captured.visitor else []
        artifacts.append(Artifact("snapshot", "application/json", snapshot.to_json_bytes(), snapshot.final_url))
        captures = self._store_blobs(snapshot.requested_url, artifacts)
        posts, comments = observations(snapshot)
        now = utcnow()
        archive = self.archive
        with archive.db.session() as session:
            archive.record_captures(session, run.id, captures)
            post_changes = archive.record_items(session, run.id, account.id, "post", posts, [], now)
            archive.record_items(session, run.id, account.id, "comment", comments, [], now)
            archive.record_profile(session, run.id, account.id, profile_input(snapshot), now)
            archive.complete_run(
                session,
                run.id,
                status="ok",
                final_url=snapshot.final_url,
                browser_version=snapshot.browser_version,
                user_agent=snapshot.user_agent,
                viewport=f"{snapshot.viewport[0]}x{snapshot.viewport[1]}",
                session_reused=snapshot.session_reused,
                feed_complete=snapshot.feed_complete,
                posts_seen=len(posts),
                posts_new=len(post_changes.new),
                snapshot_sha256=artifacts[-1].sha256,
            )
        return RunReport(
            run_id=run.id,
            account=account.id,
            status="ok",
            captures=[_capture_json(c) for c in captures],
            posts_seen=len(posts),
            posts_new=len(post_changes.new),
        )

    def _store_blobs(self, url: str, artifacts: list[Artifact]) -> list[CaptureInput]:
        """Write every artifact durably, grouped into captures by view."""
        views: dict[str, list[ArtifactInput]] = {}
        urls: dict[str, str | None] = {}
        for art in artifacts:
            stored = self.archive.put_blob(art.data, art.media_type)
            view = _VIEW_OF_KIND.get(art.kind, "owner")
            views.setdefault(view, []).append(
                ArtifactInput(art.kind, art.media_type, stored.sha256, stored.size, art.url)
            )
            if art.kind in ("screenshot", "visitor_screenshot", "settings"):
                urls[view] = art.url
        return [CaptureInput(view, url, urls.get(view), arts) for view, arts in views.items()]

    async def _failed(self, run: Run, exc: CivicwatchError, ctx: logging.LoggerAdapter[Any]) -> RunReport:
        message = redact(exc.message)
        ctx.warning("capture failed (%s): %s", exc.code, message)
        await asyncio.to_thread(
            self.archive.finish_run, run.id, status="failed", error=message, error_code=exc.code
        )
        return RunReport(run_id=run.id, account=run.account_id, status="failed", error=message, error_code=exc.code)

    def _interrupted(self, run_id: str) -> None:
        self.archive.finish_run(run_id, status="interrupted", error="the run was cancelled")


def _capture_json(capture: CaptureInput) -> dict[str, Any]:
    return {
        "view": capture.view,
        "url": capture.final_url or capture.url,
        "artifacts": [{"kind": a.kind, "sha256": a.sha256, "bytes": a.size} for a in capture.artifacts],
    }


async def _close(context: BrowserContext) -> None:
    try:
        await context.close()
    except PlaywrightError as exc:
        log.debug("context already gone: %s", str(exc).splitlines()[0])


async def run_checks(
    services: Services, accounts: Iterable[Account], on_report: Callable[[RunReport], None]
) -> list[RunReport]:
    """Check accounts with one browser; call ``on_report`` as each run ends."""
    browser = BrowserHost(services.settings.browser)
    runner = Runner(services, browser)
    reports: list[RunReport] = []
    try:
        async for report in runner.check_many(accounts):
            on_report(report)
            reports.append(report)
    finally:
        await browser.close()
    return reports
