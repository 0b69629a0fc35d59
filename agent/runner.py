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
from datetime import datetime
from typing import Any

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from agent import __version__
from agent.alerts.delivery import deliver_pending
from agent.browser import BrowserHost, playwright_version
from agent.errors import BrowserUnavailable, CaptureError, CaptureTimeout, CivicwatchError, LoginFailed
from agent.recorder import Captured, Recorder, RunReport
from agent.redact import redact
from agent.services import Services
from agent.settings import Account
from flows import registry
from flows.base import LoginOutcome, Platform, VisitorCapture
from storage.clock import utcnow
from storage.models import Run

log = logging.getLogger(__name__)


def new_run_id(now: datetime) -> str:
    """Sortable, readable, unique: ``20261120T230501Z-1f2e3d4c``."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


class Runner:
    """Runs captures for accounts with one shared browser."""

    def __init__(self, services: Services, browser: BrowserHost) -> None:
        self.services = services
        self.archive = services.archive
        self.browser = browser
        self.settings = services.settings
        self.limits = self.settings.browser.limits()
        self.recorder = Recorder(services)

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
            return await self._failed(run, account, CaptureTimeout(f"the run exceeded its limit of {limit}"), ctx)
        except (CaptureError, BrowserUnavailable) as exc:
            return await self._failed(run, account, exc, ctx)
        except asyncio.CancelledError:
            await asyncio.shield(asyncio.to_thread(self._interrupted, run.id))
            raise
        report = await asyncio.to_thread(self.recorder.success, run, account, captured)
        ctx.info("capture ok: %d posts (%d new), %d findings", report.posts_seen, report.posts_new,
                 len(report.findings))
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

    async def _failed(
        self, run: Run, account: Account, exc: CivicwatchError, ctx: logging.LoggerAdapter[Any]
    ) -> RunReport:
        ctx.warning("capture failed (%s): %s", exc.code, redact(exc.message))
        return await asyncio.to_thread(self.recorder.failure, run, account, exc)

    def _interrupted(self, run_id: str) -> None:
        self.archive.finish_run(run_id, status="interrupted", error="the run was cancelled")


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
    wait = services.settings.alerts.check_wait.total_seconds()
    stats = await asyncio.to_thread(deliver_pending, services, wait)
    if stats.sent or stats.failed or stats.gave_up:
        log.info("alerts: %d sent, %d will be retried, %d gave up", stats.sent, stats.failed, stats.gave_up)
    return reports
