"""One APScheduler 3.x job per account, kept in step with the configuration.

Every job has an explicit id (``check:<account>``), ``replace_existing``, ``coalesce``,
``max_instances=1`` and an explicit ``misfire_grace_time`` (APScheduler's default of one
second silently drops a run that starts late). A run missed while the daemon was down
is detected from the archive at start and run once, immediately: not zero times, not many.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.settings import Account
from agent.units import Schedule

JOB_PREFIX = "check:"
#: a cron run may start up to this late (busy daemon, suspended VM) and still run
CRON_GRACE = timedelta(hours=1)


def job_id(account_id: str) -> str:
    return f"{JOB_PREFIX}{account_id}"


def trigger_for(schedule: Schedule, timezone: str) -> BaseTrigger:
    """The APScheduler trigger for an account's schedule."""
    tz = ZoneInfo(timezone)
    if schedule.kind == "cron":
        assert schedule.cron is not None
        return CronTrigger.from_crontab(schedule.cron, timezone=tz)
    assert schedule.every is not None
    jitter = int(schedule.jitter.total_seconds()) or None
    return IntervalTrigger(seconds=int(schedule.every.total_seconds()), jitter=jitter, timezone=tz)


def misfire_grace(schedule: Schedule) -> int:
    """Seconds a run may start late and still run: half an interval, or an hour for cron; pure."""
    if schedule.kind == "cron":
        return int(CRON_GRACE.total_seconds())
    assert schedule.every is not None
    return max(30, int(schedule.every.total_seconds() / 2))


def missed(schedule: Schedule, last_started: datetime | None, now: datetime, timezone: str) -> bool:
    """Was a run due between the last run and now (e.g. while the daemon was down)? Pure."""
    if last_started is None:
        return True
    if schedule.kind == "interval":
        assert schedule.every is not None
        return now - last_started >= schedule.every
    due = trigger_for(schedule, timezone).get_next_fire_time(None, last_started + timedelta(seconds=1))
    return due is not None and due <= now


class JobStore(Protocol):
    """The part of APScheduler's BaseScheduler this module uses."""

    def add_job(self, func: Any, trigger: Any = ..., **kwargs: Any) -> Any: ...

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None: ...

    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Any]: ...


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    catch_up: list[str] = field(default_factory=list)


class AccountJobs:
    """Adds, removes and reschedules the accounts' jobs on a scheduler."""

    def __init__(self, scheduler: JobStore, job: Callable[[str], Awaitable[None]], timezone: str) -> None:
        self.scheduler = scheduler
        self.job = job
        self.timezone = timezone
        self.schedules: dict[str, str] = {}

    def sync(
        self, accounts: Sequence[Account], last_started: Mapping[str, datetime | None], now: datetime
    ) -> SyncResult:
        """Make the jobs match the enabled accounts; run missed ones once, now."""
        result = SyncResult()
        wanted = {a.id: a for a in accounts if a.enabled}
        for job in self.scheduler.get_jobs():
            account_id = job.id.removeprefix(JOB_PREFIX)
            if job.id.startswith(JOB_PREFIX) and account_id not in wanted:
                self.scheduler.remove_job(job.id)
                self.schedules.pop(account_id, None)
                result.removed.append(account_id)
        for account in wanted.values():
            spec = str(account.schedule)
            known = self.schedules.get(account.id)
            if known == spec:
                continue
            catch_up = known is None and missed(account.schedule, last_started.get(account.id), now, self.timezone)
            options: dict[str, Any] = {}
            if catch_up:
                options["next_run_time"] = now
                result.catch_up.append(account.id)
            self.scheduler.add_job(
                self.job,
                trigger_for(account.schedule, self.timezone),
                args=[account.id],
                id=job_id(account.id),
                name=f"check {account.id} ({spec})",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=misfire_grace(account.schedule),
                **options,
            )
            (result.added if known is None else result.rescheduled).append(account.id)
            self.schedules[account.id] = spec
        return result

    def next_runs(self) -> dict[str, datetime | None]:
        """Each scheduled account's next run time."""
        return {
            job.id.removeprefix(JOB_PREFIX): getattr(job, "next_run_time", None)
            for job in self.scheduler.get_jobs()
            if job.id.startswith(JOB_PREFIX)
        }
