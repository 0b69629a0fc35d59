"""``civicwatch findings``: list, show, acknowledge and resolve findings."""

from __future__ import annotations

import json
from typing import Any

import click

from agent.cli import AppContext, cli, pass_app
from agent.detect.config import KINDS
from agent.services import Services, open_services
from agent.timefmt import local
from storage import findings as store
from storage.clock import utcnow
from storage.models import Finding

STATUSES = ("open", "acknowledged", "resolved")


def finding_dict(f: Finding, timezone: str | None = None) -> dict[str, Any]:
    """A finding as JSON (times in UTC ISO 8601)."""
    data = f.model_dump(mode="json")
    if timezone:
        data["last_seen_local"] = local(f.last_seen_at, timezone)
    return data


def _with_services(app: AppContext) -> Services:
    return open_services(app.settings())


@cli.group("findings")
def findings_group() -> None:
    """What civicwatch found: list, show, acknowledge, resolve."""


@findings_group.command("list")
@click.option("--account", help="Only this account.")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--limit", default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def list_findings(app: AppContext, account: str | None, kind: str | None, status: str | None,
                  limit: int, as_json: bool) -> None:
    """List findings, most recently seen first."""
    services = _with_services(app)
    tz = services.settings.agent.timezone
    try:
        with services.db.session() as session:
            rows = store.query(session, account=account, kind=kind, status=status, limit=limit)
    finally:
        services.close()
    for f in rows:
        if as_json:
            click.echo(json.dumps(finding_dict(f), ensure_ascii=False))
        else:
            click.echo(f"{f.id:>5}  {f.status:<12} {f.severity:<8} {f.kind:<22} {f.account_id:<14} "
                       f"{local(f.last_seen_at, tz)}  {f.summary}")
    if not rows and not as_json:
        click.echo("no findings")


@findings_group.command("show")
@click.argument("finding_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show_finding(app: AppContext, finding_id: int, as_json: bool) -> None:
    """Everything about one finding, with its history."""
    services = _with_services(app)
    tz = services.settings.agent.timezone
    try:
        with services.db.session() as session:
            f = store.get(session, finding_id)
            history = store.events(session, finding_id)
    finally:
        services.close()
    if as_json:
        data = finding_dict(f, tz)
        data["events"] = [e.model_dump(mode="json") for e in history]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"finding {f.id}: {f.summary}")
    for label, value in [
        ("kind", f.kind), ("severity", f.severity), ("status", f.status), ("account", f.account_id),
        ("subject", f.subject), ("policy", f.clause), ("evidence run", f.evidence_run_id),
        ("first seen", local(f.first_seen_at, tz)), ("last seen", local(f.last_seen_at, tz)),
        ("times seen", f.times_seen), ("cleared", local(f.cleared_at, tz) if f.cleared_at else "no"),
    ]:
        click.echo(f"  {label:<13} {value}")
    if f.resolution:
        click.echo(f"  {'resolution':<13} {f.resolution} ({f.resolved_by}, {local(f.resolved_at, tz)})")
    click.echo("  details:")
    for key, value in f.details.items():
        click.echo(f"    {key}: {json.dumps(value, ensure_ascii=False)}")
    click.echo("  history:")
    for e in history:
        who = f" by {e.by}" if e.by else ""
        note = f": {e.note}" if e.note else ""
        click.echo(f"    {local(e.at, tz)}  {e.event}{who}{note}")


@findings_group.command("ack")
@click.argument("finding_id", type=int)
@click.option("--by", "by", required=True, help="Who is acknowledging.")
@click.option("--note", default=None)
@pass_app
def ack(app: AppContext, finding_id: int, by: str, note: str | None) -> None:
    """Acknowledge an open finding (stops escalation)."""
    services = _with_services(app)
    try:
        with services.db.session() as session:
            f = store.acknowledge(session, finding_id, by, note, utcnow())
    finally:
        services.close()
    click.echo(f"finding {f.id} acknowledged by {by}")


@findings_group.command("resolve")
@click.argument("finding_id", type=int)
@click.option("--by", "by", required=True, help="Who is resolving.")
@click.option("--why", required=True, help="Why (e.g. the reason content was removed).")
@pass_app
def resolve(app: AppContext, finding_id: int, by: str, why: str) -> None:
    """Resolve a finding, recording who and why."""
    services = _with_services(app)
    try:
        with services.db.session() as session:
            f = store.resolve(session, finding_id, by, why, utcnow())
    finally:
        services.close()
    click.echo(f"finding {f.id} resolved by {by}")
