"""One capture run of one account, end to end: browser -> adapter -> archive -> report.

A failure anywhere becomes a recorded, failed run with its reason; it never takes other
accounts down and never loses what earlier runs stored.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from agent import __version__
from agent.alerts.delivery import deliver_pending
from agent.browser import BrowserHost, playwright_version
from agent.errors import (
    BrowserUnavailable,
    CaptureError,
    CaptureTimeout,
    CivicwatchError,
    InternalError,
    LoginFailed,
    LoginRequired,
    StorageError,
)
from agent.locks import AccountBusy, account_lock
from agent.logins import LoginGuard, outcome_of
from agent.detect.links import published_links
from agent.links import LinkOutcome, LinkService
from agent.recorder import Captured, Recorder, RunReport, account_policy
from agent.redact import redact
from agent.services import Services
from agent.settings import Account
from agent.timings import PhaseClock, describe
from flows import registry
from flows.boundary import step, translate
from agent.evidence.tsa import stamp_pending
from agent.evidence.warc import har_to_warc
from flows.base import Artifact, LoginOutcome, Platform, VisitorCapture
from storage.clock import utcnow
from storage.models import Run

log = logging.getLogger(__name__)


def work_dir(data_dir: Path, run_id: str) -> Path:
    """Scratch space for one run (HAR files), removed when the run ends."""
    path = data_dir / "work" / run_id
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def new_run_id(now: datetime) -> str:
    """Sortable, readable, unique: ``20261120T230501Z-1f2e3d4c``."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


class Runner:
    """Runs captures for accounts in a shared set of Chromiums."""

    def __init__(self, services: Services, browser: BrowserHost) -> None:
        self.services = services
        self.archive = services.archive
        self.browser = browser
        self.settings = services.settings
        self.limits = self.settings.browser.limits()
        self.recorder = Recorder(services)
        self.links = LinkService(self.settings.links, services.db)
        agent = self.settings.agent
        self.guard = LoginGuard(services.db, services.key, agent.login_attempts_per_hour,
                                agent.login_pause_after_refusal)

    async def check_many(self, accounts: Iterable[Account], force_login: bool = False) -> AsyncIterator[RunReport]:
        """Run accounts, up to ``[agent] concurrency`` at once; yield reports as they finish."""
        gate = asyncio.Semaphore(self.settings.agent.concurrency)

        async def one(account: Account) -> RunReport:
            async with gate:
                return await self.check(account, force_login)

        tasks = [asyncio.create_task(one(a), name=f"run:{a.id}") for a in accounts]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def check(self, account: Account, force_login: bool = False) -> RunReport:
        """Capture one account and record the run, whatever happens."""
        try:
            with account_lock(self.settings.agent.data_dir, account.id):
                return await self._check(account, force_login)
        except AccountBusy as exc:
            log.info("%s", exc.message)
            return RunReport(run_id="", account=account.id, status="failed", error=exc.message, error_code=exc.code)

    async def _check(self, account: Account, force_login: bool) -> RunReport:
        run = Run(
            id=new_run_id(utcnow()),
            account_id=account.id,
            platform=account.platform,
            requested_url=account.url,
            tool_version=__version__,
            playwright_version=playwright_version(),
            host=socket.gethostname(),
        )
        try:
            await asyncio.to_thread(self.archive.start_run, run)
        except StorageError as exc:
            message = f"the run could not be recorded, so nothing was captured: {exc.message}"
            log.error("%s: %s", account.id, message)
            return RunReport(run_id="", account=account.id, status="failed", error=message, error_code=exc.code)
        ctx = logging.LoggerAdapter(log, {"run_id": run.id, "account": account.id})
        ctx.info("capture started: %s", account.url)
        started, clock = time.monotonic(), PhaseClock()
        limit = self.settings.agent.run_timeout
        try:
            async with asyncio.timeout(limit.total_seconds()):
                await asyncio.to_thread(self.services.ensure_space)
                captured = await self._capture(account, run.id, force_login, clock)
                if self.settings.links.enabled:
                    clock.begin("links")
                    captured.links = await self._check_links(account, captured)
        except TimeoutError:
            return await self._failed(run, account, CaptureTimeout(f"the run exceeded its limit of {limit}"), ctx)
        except (CaptureError, BrowserUnavailable, StorageError) as exc:
            return await self._failed(run, account, exc, ctx)
        except PlaywrightError as exc:  # an adapter step that was not wrapped: still a recorded failure
            return await self._failed(run, account, translate(exc, "capturing the page"), ctx)
        except asyncio.CancelledError:
            await asyncio.shield(asyncio.to_thread(self._interrupted, run.id))
            raise
        except Exception as exc:  # noqa: BLE001 - a bug fails its own run, recorded with its traceback in the log
            return await self._failed(run, account, self._bug(exc, account, ctx), ctx)
        finally:
            self.browser.count_run()
        try:
            clock.begin("recording")
            report = await asyncio.to_thread(self.recorder.success, run, account, captured)
            clock.stop()
        except StorageError as exc:
            return await self._unstored(run, account, exc, ctx)
        except Exception as exc:  # noqa: BLE001 - as above; the run's transaction was rolled back
            return await self._failed(run, account, self._bug(exc, account, ctx), ctx)
        report.phases = clock.seconds()
        ctx.info("capture ok: %d posts (%d new), %d findings %s", report.posts_seen, report.posts_new,
                 len(report.findings), describe(time.monotonic() - started, report.phases))
        for warning in report.warnings:
            ctx.warning("capture warning: %s", redact(warning))
        return report

    async def _check_links(self, account: Account, captured: Captured) -> LinkOutcome | None:
        """Check every link the account published in this capture (no browser needed)."""
        policy = account_policy(account, self.settings.policy)
        sources = published_links(captured.result.snapshot, policy, self.settings.links.page_comments)
        try:
            outcome = await self.links.check_published(sources)
        except CivicwatchError as exc:  # the capture itself is still stored
            log.warning("%s: the link check failed: %s", account.id, exc.message)
            return None
        counts = outcome.counts()
        log.info("%s: %d link(s) checked with %d request(s), %d failing", account.id, counts["checked"],
                 outcome.requests, counts["broken"])
        if unchecked := outcome.unchecked():
            log.warning("%s: %d link(s) could not be checked and keep their last result: %s", account.id,
                        len(unchecked), next(iter(unchecked.values())).message)
        return outcome

    # -- browser side ------------------------------------------------------------------

    async def _capture(self, account: Account, run_id: str, force_login: bool, clock: PhaseClock) -> Captured:
        work = work_dir(self.settings.agent.data_dir, run_id)
        try:
            captured = await self._browse(account, run_id, force_login, work, clock)
            if self.settings.evidence.warc:
                clock.begin("WARC")
                captured.warc = await asyncio.to_thread(self._warc, work, run_id, account, captured)
            return captured
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _warc(self, work: Path, run_id: str, account: Account, captured: Captured) -> Artifact:
        snapshot = captured.result.snapshot
        info = {
            "software": f"civicwatch/{__version__} (Playwright {playwright_version()}; Chromium {snapshot.browser_version})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "operator": self.settings.agent.operator or "unspecified",
            "hostname": socket.gethostname(),
            "http-header-user-agent": snapshot.user_agent,
            "isPartOf": f"civicwatch run {run_id}",
            "description": f"{account.name} ({account.id}) {account.url}",
        }
        data = har_to_warc([work / "owner.har", work / "visitor.har"], f"{run_id}.warc.gz", info)
        return Artifact("warc", "application/warc", data, account.url)

    async def _browse(self, account: Account, run_id: str, force_login: bool, work: Path,
                      clock: PhaseClock) -> Captured:
        adapter: Platform = registry.get(account.platform)(account, self.limits)
        sessions = self.services.sessions
        har = (lambda name: work / name) if self.settings.evidence.warc else (lambda name: None)
        clock.begin("sign-in")
        async with self.browser.context(storage_state=sessions.load(account.id), har=har("owner.har")) as owner:
            async with step("opening a page"):
                page = await owner.new_page()
            try:
                outcome = await self._login(adapter, page, account, run_id, force_login)
            except LoginFailed:
                sessions.forget(account.id)
                raise
            clock.begin("owner view")  # until the context has closed: its HAR is written then
            result = await adapter.snapshot(page)
            if outcome is not LoginOutcome.NOT_NEEDED:
                async with step("reading the session to save"):
                    state = dict(await owner.storage_state())
                sessions.save(account.id, state)  # refreshed cookies
        visitor, visitor_error = None, None
        if getattr(adapter, "has_visitor_view", True):
            clock.begin("visitor view")
            visitor, visitor_error = await self._visitor_view(adapter, har("visitor.har"))
        return Captured(result, outcome, visitor, visitor_error)

    async def _login(
        self, adapter: Platform, page: Page, account: Account, run_id: str, force: bool
    ) -> LoginOutcome:
        """Reuse the saved session if it is valid; else sign in, if the guard allows it."""
        try:
            return await adapter.login(page, None)
        except LoginRequired:
            if account.credentials is None:
                raise LoginFailed(f"account {account.id!r} needs a login but has no [accounts.credentials]") from None
        creds = account.credentials.resolved()
        if not force:
            await asyncio.to_thread(self.guard.check, account.id, creds, utcnow())
        try:
            outcome = await adapter.login(page, creds)
        except LoginFailed as exc:
            await asyncio.to_thread(self.guard.record, account.id, creds, outcome_of(exc), run_id, utcnow())
            raise
        await asyncio.to_thread(self.guard.record, account.id, creds, "ok", run_id, utcnow())
        return outcome

    async def _visitor_view(self, adapter: Platform, har: Path | None) -> tuple[VisitorCapture | None, str | None]:
        """The anonymous view; its failure is recorded but does not fail the run."""
        try:
            async with self.browser.context(har=har) as context, step("opening the visitor page"):
                return await adapter.visitor_view(await context.new_page()), None
        except CaptureError as exc:
            return None, exc.message

    async def _failed(
        self, run: Run, account: Account, exc: CivicwatchError, ctx: logging.LoggerAdapter[Any]
    ) -> RunReport:
        ctx.warning("capture failed (%s): %s", exc.code, redact(exc.message))
        return await asyncio.to_thread(self.recorder.failure, run, account, exc)

    @staticmethod
    def _bug(exc: Exception, account: Account, ctx: logging.LoggerAdapter[Any]) -> InternalError:
        """Log an error nobody translated, with its traceback; the run fails naming it."""
        ctx.exception("internal error during the run")
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        return InternalError(f"internal error ({type(exc).__name__}: {detail}): a bug in civicwatch or "
                             f"its {account.platform!r} adapter; the log has the traceback")

    async def _unstored(
        self, run: Run, account: Account, exc: StorageError, ctx: logging.LoggerAdapter[Any]
    ) -> RunReport:
        """The page was captured but could not be stored: record the failure, if the store still can."""
        error = type(exc)(f"the capture could not be stored: {exc.message}")
        try:
            return await self._failed(run, account, error, ctx)
        except StorageError as again:
            ctx.error("the failure could not be recorded either (%s); the run stays open until the next start "
                      "of the daemon marks it interrupted", again.message)
            return RunReport(run_id=run.id, account=account.id, status="failed", error=error.message,
                             error_code=error.code)

    def _interrupted(self, run_id: str) -> None:
        self.recorder.interrupted(run_id, "the run was cancelled (civicwatch was stopping)")


async def run_checks(
    services: Services, accounts: Iterable[Account], on_report: Callable[[RunReport], None],
    force_login: bool = False,
) -> list[RunReport]:
    """Check accounts in the host's Chromiums; call ``on_report`` as each run ends."""
    browser = BrowserHost(services.settings.browser, services.settings.browser_instances())
    runner = Runner(services, browser)
    reports: list[RunReport] = []
    try:
        async for report in runner.check_many(accounts, force_login):
            on_report(report)
            reports.append(report)
    finally:
        await browser.close()
    wait = services.settings.alerts.check_wait.total_seconds()
    stats = await asyncio.to_thread(deliver_pending, services, wait)
    if stats.sent or stats.failed or stats.gave_up:
        log.info("alerts: %d sent, %d will be retried, %d gave up", stats.sent, stats.failed, stats.gave_up)
    stamped, pending = await asyncio.to_thread(stamp_pending, services)
    if pending:
        log.warning("%d manifest(s) await a trusted timestamp (the TSA did not answer); they will be stamped later",
                    pending)
    return reports
