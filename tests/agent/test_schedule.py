"""Scheduling with a controllable clock: which runs are due, and the jobs APScheduler gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from agent.schedule import AccountJobs, job_id, misfire_grace, missed
from agent.settings import Account
from agent.units import parse_schedule

NOW = datetime(2026, 11, 20, 15, 7, tzinfo=UTC)


def account(account_id: str, schedule: str, enabled: bool = True) -> Account:
    return Account(id=account_id, name=account_id, platform="sandbox", url=f"http://127.0.0.1:1/p/{account_id}",
                   schedule=schedule, enabled=enabled)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schedule", "last", "expected"),
    [
        ("every 30m", None, True),
        ("every 30m", NOW - timedelta(minutes=29), False),
        ("every 30m", NOW - timedelta(minutes=30), True),
        ("every 30m", NOW - timedelta(days=3), True),
        ("cron: 0 * * * *", NOW - timedelta(minutes=5), False),  # 15:02, next 16:00
        ("cron: 0 * * * *", NOW - timedelta(minutes=8), True),  # 14:59, missed 15:00
        ("cron: 0 9 * * 1", NOW - timedelta(days=2), False),  # Monday 09:00 Chicago not yet due
    ],
)
def test_a_run_is_missed_when_one_was_due_since_the_last(schedule: str, last: datetime | None, expected: bool) -> None:
    assert missed(parse_schedule(schedule), last, NOW, "America/Chicago") is expected


def test_grace_is_explicit_and_proportionate() -> None:
    assert misfire_grace(parse_schedule("every 30m")) == 900
    assert misfire_grace(parse_schedule("cron: 0 * * * *")) == 3600


class Jobs:
    def __init__(self) -> None:
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.start(paused=True)
        self.ran: list[str] = []

        async def job(account_id: str) -> None:
            self.ran.append(account_id)

        self.jobs = AccountJobs(self.scheduler, job, "UTC")

    def get(self, account_id: str):  # type: ignore[no-untyped-def]
        return self.scheduler.get_job(job_id(account_id))


@pytest.fixture
def jobs():  # type: ignore[no-untyped-def]
    j = Jobs()
    yield j
    j.scheduler.shutdown(wait=False)


def test_jobs_have_explicit_ids_and_safe_options(jobs: Jobs) -> None:
    jobs.jobs.sync([account("parks", "every 30m jitter 1m")], {"parks": NOW - timedelta(minutes=5)}, NOW)
    job = jobs.get("parks")
    assert job.id == "check:parks" and job.coalesce and job.max_instances == 1
    assert job.misfire_grace_time == 900 and job.trigger.jitter == 60
    assert job.args == ("parks",)


def test_missed_and_never_run_accounts_run_once_now_others_wait(jobs: Jobs) -> None:
    result = jobs.jobs.sync(
        [account("a", "every 1h"), account("b", "every 1h"), account("c", "every 1h")],
        {"a": NOW - timedelta(hours=5), "b": NOW - timedelta(minutes=10)}, NOW,
    )
    assert sorted(result.catch_up) == ["a", "c"]
    assert jobs.get("a").next_run_time == NOW and jobs.get("c").next_run_time == NOW
    assert jobs.get("b").next_run_time > NOW


def test_sync_adds_removes_and_reschedules_only_what_changed(jobs: Jobs) -> None:
    jobs.jobs.sync([account("a", "every 1h"), account("b", "every 1h")], {}, NOW)
    result = jobs.jobs.sync([account("a", "every 1h"), account("b", "every 2h"), account("c", "cron: 0 6 * * *"),
                             account("d", "every 1h", enabled=False)], {"c": NOW}, NOW)
    assert (result.added, result.rescheduled, result.removed) == (["c"], ["b"], [])
    assert str(jobs.get("b").trigger.interval) == "2:00:00"
    assert jobs.get("d") is None
    gone = jobs.jobs.sync([account("b", "every 2h")], {}, NOW)
    assert sorted(gone.removed) == ["a", "c"] and [j.id for j in jobs.scheduler.get_jobs()] == ["check:b"]
