"""``civicwatch run`` (the daemon) and ``civicwatch status``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from sqlmodel import select

from agent.cli import AppContext, cli, pass_app
from agent.daemon import Daemon, heartbeat_age
from agent.locks import daemon_lock
from agent.services import open_services
from agent.timefmt import local
from storage.clock import utcnow
from storage.models import Heartbeat, ScheduledRun
from storage.queries import latest_runs

#: a daemon whose heartbeat is older than this is considered gone
HEARTBEAT_STALE_SECONDS = 120


@cli.command("run")
@pass_app
def run(app: AppContext) -> None:
    """Run the daemon: scheduled captures, alerts, the web portal, /healthz and /metrics."""
    settings = app.settings()
    with daemon_lock(settings.agent.data_dir):
        code = asyncio.run(Daemon(app.config, settings).run())
    raise click.exceptions.Exit(code)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Per account: the last run and the next scheduled one; and whether the daemon is alive."""
    settings = app.settings()
    services = open_services(settings)
    tz = settings.agent.timezone
    now = utcnow()
    try:
        with services.db.session() as s:
            beat = s.get(Heartbeat, 1)
            latest = latest_runs(s)
            plans = {p.account_id: p for p in s.exec(select(ScheduledRun)).all()}
    finally:
        services.close()
    age = heartbeat_age(beat, now)
    alive = beat is not None and beat.stopped_at is None and age is not None and age.total_seconds() < HEARTBEAT_STALE_SECONDS
    daemon: dict[str, Any] = {"running": alive, "pid": beat.pid if beat else None,
                              "host": beat.host if beat else None,
                              "started_at": beat.started_at.isoformat() if beat else None,
                              "last_heartbeat": beat.beat_at.isoformat() if beat else None}
    accounts = []
    for account in settings.accounts:
        last = latest.get(account.id)
        plan = plans.get(account.id) if alive else None
        accounts.append({
            "account": account.id,
            "enabled": account.enabled,
            "schedule": str(account.schedule),
            "last_run": None if last is None else {
                "id": last.id, "status": last.status, "started_at": last.started_at.isoformat(),
                "finished_at": last.finished_at.isoformat() if last.finished_at else None, "error": last.error},
            "next_run": plan.next_run_at.isoformat() if plan and plan.next_run_at else None,
        })
    if as_json:
        click.echo(json.dumps({"daemon": daemon, "accounts": accounts}, ensure_ascii=False))
        return
    if alive:
        click.echo(f"daemon: running (pid {beat.pid} on {beat.host}, since {local(beat.started_at, tz)})")  # type: ignore[union-attr]
    elif beat is not None:
        click.echo(f"daemon: NOT running (last seen {local(beat.beat_at, tz)})")
    else:
        click.echo("daemon: has never run (start it with `civicwatch run`)")
    for row, account in zip(accounts, settings.accounts, strict=True):
        last = latest.get(account.id)
        last_text = "never" if last is None else f"{last.status:<11} {local(last.started_at, tz)}  {last.id}"
        nxt = local(plans[account.id].next_run_at, tz) if row["next_run"] else "-"
        click.echo(f"  {account.id:<16} last: {last_text:<58} next: {nxt}")
