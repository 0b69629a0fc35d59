"""``civicwatch hold …`` (legal holds) and ``civicwatch retention run``."""

from __future__ import annotations

import json

import click

from agent.cli import AppContext, cli, pass_app
from agent.retention import run_disposition
from agent.services import open_services
from agent.timefmt import local
from storage import audit, holds
from storage.clock import utcnow


@cli.group("hold")
def hold_group() -> None:
    """Legal holds: keep everything of an account, whatever its retention."""


@hold_group.command("add")
@click.option("--account", "account_id", required=True)
@click.option("--case", required=True, help="Case name or number.")
@click.option("--by", "by", required=True, help="Who placed the hold.")
@click.option("--reason", default="")
@pass_app
def hold_add(app: AppContext, account_id: str, case: str, by: str, reason: str) -> None:
    """Place a legal hold on an account."""
    settings = app.settings()
    settings.account(account_id)
    services = open_services(settings)
    try:
        with services.db.session() as s:
            hold = holds.add(s, account_id, case, by, reason, utcnow())
        audit.append(services.db, by, "hold_add", account_id, {"hold": hold.id, "case": case, "reason": reason})
    finally:
        services.close()
    click.echo(f"legal hold {hold.id} on {account_id} for case {case!r}")


@hold_group.command("release")
@click.argument("hold_id", type=int)
@click.option("--by", "by", required=True)
@pass_app
def hold_release(app: AppContext, hold_id: int, by: str) -> None:
    """Release a legal hold."""
    services = open_services(app.settings())
    try:
        with services.db.session() as s:
            hold = holds.release(s, hold_id, by, utcnow())
        audit.append(services.db, by, "hold_release", hold.account_id, {"hold": hold_id, "case": hold.case})
    finally:
        services.close()
    click.echo(f"legal hold {hold_id} released")


@hold_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include released holds.")
@pass_app
def hold_list(app: AppContext, show_all: bool) -> None:
    """List legal holds."""
    settings = app.settings()
    services = open_services(settings)
    try:
        with services.db.session() as s:
            rows = holds.every(s) if show_all else holds.active(s)
    finally:
        services.close()
    tz = settings.agent.timezone
    for h in rows:
        released = f"  released {local(h.released_at, tz)} by {h.released_by}" if h.released_at else ""
        click.echo(f"{h.id:>4}  {h.account_id:<16} case {h.case!r}  placed {local(h.created_at, tz)} by {h.created_by}"
                   f"{released}")
    if not rows:
        click.echo("no legal holds")


@cli.group("retention")
def retention_group() -> None:
    """Records retention."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, delete nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def retention_run(app: AppContext, dry_run: bool, as_json: bool) -> None:
    """Delete what is past retention and not on hold (the daemon does this daily)."""
    services = open_services(app.settings())
    try:
        results = run_disposition(services, utcnow(), dry_run=dry_run, actor="civicwatch retention run (CLI)")
    finally:
        services.close()
    verb = "would delete" if dry_run else "deleted"
    for r in results:
        if as_json:
            click.echo(json.dumps({**r.summary(), "dry_run": dry_run}))
        else:
            click.echo(f"{r.account_id}: {verb} {len(r.runs)} runs, {len(r.findings)} findings, {len(r.posts)} posts, "
                       f"{len(r.comments)} comments, {r.versions} versions, {len(r.blobs)} files")
    if not results and not as_json:
        click.echo("nothing has a retention period (every account is permanent)")
