"""`civicwatch run`: the daemon a city leaves running.

On start it repairs what a crash left (interrupted runs, temp files, half-sent alerts),
schedules every account (running once, now, any whose run was missed while it was down),
and serves /healthz, /metrics and the portal. SIGHUP reloads the configuration (a broken
file is refused and the running one kept); SIGTERM stops new runs, gives running ones
``shutdown_grace`` to finish, interrupts the rest cleanly, and exits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from agent import __version__
from agent.alerts.alerter import Alerter
from agent.alerts.delivery import make_sender, scheduled_alerts
from agent.alerts.sender import Sender
from agent.browser import BrowserHost
from agent.errors import ConfigError
from agent.evidence.tsa import stamp_pending
from agent.locks import account_busy
from agent.metrics import Metrics
from agent.retention import run_disposition
from agent.runner import Runner
from agent.schedule import AccountJobs
from agent.services import Services, open_services, shortage_message
from agent.settings import Settings, load_settings, systemd_environment
from agent.systemd import Notifier
from agent.units import format_duration
from agent.web.app import create_app
from agent.web.server import EmbeddedServer, embedded_server
from storage.clock import utcnow
from storage.models import Heartbeat, ScheduledRun
from storage.queries import last_success, latest_runs
from storage.recovery import recover

log = logging.getLogger(__name__)
SENDER_INTERVAL = 10.0
SCHEDULED_ALERTS_INTERVAL = 60.0
HEARTBEAT_INTERVAL = 30.0


def last_started(services: Services) -> dict[str, datetime | None]:
    """Each account's latest run start; None when that run was interrupted (so it runs again)."""
    with services.db.session() as s:
        latest = latest_runs(s)
    return {a: None if run.status == "interrupted" else run.started_at for a, run in latest.items()}


class Daemon:
    """The long-running process: scheduler, browser, sender, web."""

    def __init__(self, config_path: Path | None, settings: Settings) -> None:
        self.config_path = config_path
        self.settings = settings
        self.base_services = open_services(settings)
        self.services = self.base_services
        self.browser = BrowserHost(settings.browser, settings.browser_instances())
        self.runner = Runner(self.services, self.browser)
        self.alerter = Alerter(settings, self.services.archive.blobs)
        self.sender: Sender = make_sender(self.services, self.alerter)
        self.metrics = Metrics(self.services.db, self.services.storage_paths())
        socket_path, self.watchdog_interval = systemd_environment()
        self.notifier = Notifier(socket_path)
        self.started_at = utcnow()
        self.active: set[asyncio.Task[Any]] = set()
        self.state = "starting"
        self._crashes_seen = 0
        self._web: EmbeddedServer | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the process exit status."""
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        self.wake_sender = asyncio.Event()
        self.slots = asyncio.Semaphore(self.settings.agent.concurrency)
        tz = self.settings.agent.timezone
        self.scheduler = AsyncIOScheduler(timezone=ZoneInfo(tz), event_loop=loop)
        self.jobs = AccountJobs(self.scheduler, self._job, tz)
        await self._recover()
        self.scheduler.start()
        await self._sync_jobs()
        retention = self.settings.retention.schedule
        self.scheduler.add_job(self._retention_job, CronTrigger(hour=retention.hour, minute=retention.minute,
                                                                 timezone=ZoneInfo(tz)),
                               id="retention", replace_existing=True, coalesce=True, max_instances=1,
                               misfire_grace_time=6 * 3600)
        for signum, handler in ((signal.SIGTERM, self.request_stop), (signal.SIGINT, self.request_stop),
                                (signal.SIGHUP, lambda: loop.create_task(self.reload()))):
            loop.add_signal_handler(signum, handler)
        background = [loop.create_task(self._sender_loop(), name="sender"),
                      loop.create_task(self._heartbeat_loop(), name="heartbeat")]
        if self.settings.web.enabled:
            background.append(loop.create_task(self._serve_web(), name="web"))
        self.state = "running"
        self.notifier.ready(f"watching {len(self.settings.accounts)} accounts")
        log.info("civicwatch %s running: %d accounts, concurrency %d", __version__,
                 len(self.settings.accounts), self.settings.agent.concurrency)
        await self.stopping.wait()
        await self._shutdown(background)
        return 0

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping: no new runs; running ones get %s to finish",
                     format_duration(self.settings.agent.shutdown_grace))
            self.state = "stopping"
            self.stopping.set()

    async def _recover(self) -> None:
        data_dir = self.settings.agent.data_dir
        result = await asyncio.to_thread(recover, self.services.archive, utcnow(),
                                         lambda account_id: account_busy(data_dir, account_id))
        for run_id in result.interrupted:
            await asyncio.to_thread(self.runner.recorder.interrupted, run_id,
                                    "the process stopped during this run (crash, kill or power loss)")
        requeued = await asyncio.to_thread(self.sender.outbox.requeue_stale, utcnow())
        if result.interrupted:
            log.warning("marked %d run(s) interrupted by the last stop; their accounts run again now: %s",
                        len(result.interrupted), ", ".join(result.interrupted))
        if result.live:
            log.info("left alone: %d run(s) another civicwatch process is doing now: %s", len(result.live),
                     ", ".join(result.live))
        if result.temp_files:
            log.info("removed %d temporary file(s) left by a crash", result.temp_files)
        if result.missing_blobs:
            log.error("blobs missing for interrupted runs: %s", ", ".join(result.missing_blobs))
        if requeued:
            log.info("%d alert(s) were being sent when the last process stopped; they will be sent again", requeued)

    async def _shutdown(self, background: list[asyncio.Task[Any]]) -> None:
        self.notifier.stopping()
        self.scheduler.shutdown(wait=False)
        grace = self.settings.agent.shutdown_grace.total_seconds()
        if self.active:
            _, pending = await asyncio.wait(set(self.active), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("interrupted %d run(s) still going after %s s", len(pending), grace)
                await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.to_thread(self.sender.deliver_due)
        if self._web is not None:
            self._web.should_exit = True
        for task in background:
            if task.get_name() != "web":
                task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await self.browser.close()
        await asyncio.to_thread(self._beat, True)
        self.services.close()
        log.info("civicwatch stopped")

    # -- configuration ----------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read the configuration; add, remove and reschedule jobs. A broken file is refused."""
        try:
            new = await asyncio.to_thread(load_settings, self.config_path)
        except ConfigError as exc:
            log.error("configuration reload refused, still running the previous one: %s", exc)
            return
        old = self.settings.agent
        if new.agent.data_dir != old.data_dir or new.agent.sqlalchemy_url() != old.sqlalchemy_url():
            log.warning("data_dir and database_url changes take effect at the next restart")
            agent = new.agent.model_copy(update={"data_dir": old.data_dir, "database_url": old.database_url})
            new = new.model_copy(update={"agent": agent})
        self.settings = new
        self.services = dataclasses.replace(self.base_services, settings=new)
        self.browser.settings = new.browser
        self.runner = Runner(self.services, self.browser)
        self.alerter = Alerter(new, self.services.archive.blobs)
        self.sender = make_sender(self.services, self.alerter)
        result = await self._sync_jobs()
        log.info("configuration reloaded: %d added, %d removed, %d rescheduled", len(result.added),
                 len(result.removed), len(result.rescheduled))

    async def _sync_jobs(self) -> Any:
        started = await asyncio.to_thread(last_started, self.services)
        result = self.jobs.sync(self.settings.accounts, started, utcnow())
        if result.catch_up:
            log.info("running now, missed while stopped or never run: %s", ", ".join(result.catch_up))
        await asyncio.to_thread(self._persist_schedule)
        return result

    def _persist_schedule(self) -> None:
        plans = self.jobs.next_runs()
        with self.services.db.session() as s:
            for row in s.exec(select(ScheduledRun)).all():
                if row.account_id not in plans:
                    s.delete(row)
            for account in self.settings.accounts:
                if account.id not in plans:
                    continue
                row = s.get(ScheduledRun, account.id) or ScheduledRun(account_id=account.id, schedule="")
                row.schedule, row.next_run_at, row.updated_at = str(account.schedule), plans[account.id], utcnow()
                s.add(row)

    # -- work -------------------------------------------------------------------------------

    async def _job(self, account_id: str) -> None:
        account = next((a for a in self.settings.accounts if a.id == account_id and a.enabled), None)
        if account is None or self.stopping.is_set():
            return
        task = asyncio.current_task()
        assert task is not None
        self.active.add(task)
        try:
            async with self.slots:
                started = time.monotonic()
                report = await self.runner.check(account)
            self.metrics.runs.labels(account.id, report.status).inc()
            self.metrics.duration.labels(account.id).observe(time.monotonic() - started)
            for phase, seconds in report.phases.items():
                self.metrics.phases.labels(phase).observe(seconds)
            for finding in report.findings:
                if finding["change"] != "seen":
                    self.metrics.findings.labels(finding["kind"]).inc()
            self.wake_sender.set()
        finally:
            self.active.discard(task)
            if self.browser.crashes > self._crashes_seen:
                self.metrics.browser_restarts.inc(self.browser.crashes - self._crashes_seen)
                self._crashes_seen = self.browser.crashes
            await asyncio.to_thread(self._persist_schedule)

    async def _retention_job(self) -> None:
        results = await asyncio.to_thread(run_disposition, self.services, utcnow())
        deleted = sum(len(r.runs) for r in results)
        log.info("retention: disposition done for %d account(s), %d run(s) deleted", len(results), deleted)

    async def _sender_loop(self) -> None:
        last_scheduled = 0.0
        while not self.stopping.is_set():
            stats = await asyncio.to_thread(self.sender.deliver_due)
            self.metrics.alerts.labels("sent").inc(stats.sent)
            self.metrics.alerts.labels("failed").inc(stats.failed + stats.gave_up)
            if time.monotonic() - last_scheduled >= SCHEDULED_ALERTS_INTERVAL:
                last_scheduled = time.monotonic()
                await asyncio.to_thread(stamp_pending, self.services)
                if await asyncio.to_thread(scheduled_alerts, self.services, self.alerter):
                    continue
            self.wake_sender.clear()
            waiters = {asyncio.ensure_future(self.wake_sender.wait()), asyncio.ensure_future(self.stopping.wait())}
            _, pending = await asyncio.wait(waiters, timeout=SENDER_INTERVAL, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()

    async def _heartbeat_loop(self) -> None:
        interval = min(HEARTBEAT_INTERVAL, (self.watchdog_interval or HEARTBEAT_INTERVAL * 2) / 2)
        while not self.stopping.is_set():
            await asyncio.to_thread(self._beat, False)
            self.notifier.watchdog()
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=interval)
            except TimeoutError:
                continue

    def _beat(self, stopped: bool) -> None:
        with self.services.db.session() as s:
            now = utcnow()
            row = s.get(Heartbeat, 1) or Heartbeat(pid=0, host="", version="", started_at=now, beat_at=now)
            row.pid, row.host, row.version, row.started_at = os.getpid(), socket.gethostname(), __version__, self.started_at
            row.beat_at, row.stopped_at = now, now if stopped else None
            s.add(row)

    async def _serve_web(self) -> None:
        app = create_app(lambda: self.services, self.health, self.metrics)
        web = self.settings.web
        self._web = embedded_server(app, web.host, web.port)
        try:
            await self._web.serve()
        except (OSError, SystemExit) as exc:
            log.error("cannot serve HTTP on %s (%s); the daemon keeps running without it", web.listen, exc)

    # -- health -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """What /healthz reports: scheduler, browser, accounts, outbox."""
        now = utcnow()
        next_runs = self.jobs.next_runs()
        with self.services.db.session() as s:
            last_ok = last_success(s)
            last_any = latest_runs(s)
        backlog = self.sender.outbox.backlog()
        accounts = {}
        stale = []
        for account in self.settings.accounts:
            last = last_any.get(account.id)
            ok_at = last_ok.get(account.id)
            accounts[account.id] = {
                "last_success": ok_at.isoformat() if ok_at else None,
                "last_status": last.status if last else None,
                "next_run": next_runs[account.id].isoformat() if next_runs.get(account.id) else None,
            }
            if account.enabled and last is not None and last.status in ("failed", "interrupted"):
                stale.append(account.id)
        scheduler_ok = self.state == "running" and self.scheduler.running
        browser = {"running": self.browser.running, "launches": self.browser.launches,
                   "crashes": self.browser.crashes, "active_captures": self.browser.active,
                   "last_error": self.browser.last_error}
        short = self.services.low_space()
        status = "ok"
        if stale or self.browser.last_error or backlog.get("failed") or short:
            status = "degraded"
        if not scheduler_ok:
            status = "failing"
        return {
            "status": status,
            "time": now.isoformat(),
            "version": __version__,
            "uptime_seconds": int((now - self.started_at).total_seconds()),
            "scheduler": {"running": scheduler_ok, "jobs": len(next_runs)},
            "browser": browser,
            "accounts": accounts,
            "accounts_failing": stale,
            "storage": {"low_space": shortage_message(short, self.settings.agent.min_free_space) if short else None},
            "outbox": {"pending": backlog.get("pending", 0) + backlog.get("sending", 0),
                       "failed": backlog.get("failed", 0)},
        }


def heartbeat_age(heartbeat: Heartbeat | None, now: datetime) -> timedelta | None:
    """How long ago the daemon last beat, or None if it never ran; pure."""
    return None if heartbeat is None else now - heartbeat.beat_at
