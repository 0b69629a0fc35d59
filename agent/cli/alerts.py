"""``civicwatch alerts``: test routes, inspect the outbox, deliver what is pending."""

from __future__ import annotations

import json

import click

from agent.alerts.alerter import Alerter
from agent.alerts.delivery import make_sender, scheduled_alerts
from agent.cli import AppContext, cli, pass_app
from agent.services import open_services
from agent.timefmt import local
from storage.clock import utcnow
from storage.outbox import Outbox


@cli.group("alerts")
def alerts_group() -> None:
    """Alert routes and the delivery outbox."""


@alerts_group.command("test")
@click.option("--route", "route_name", help="Only this route (default: every route).")
@pass_app
def test(app: AppContext, route_name: str | None) -> None:
    """Send a test message on every channel of the route(s) now."""
    settings = app.settings()
    routes = settings.alerts.routes
    if route_name:
        route = settings.alerts.route(route_name)
        if route is None:
            known = ", ".join(r.name for r in routes) or "none"
            raise click.UsageError(f"no alert route {route_name!r} (known: {known})")
        routes = [route]
    if not routes:
        raise click.UsageError("no [[alerts.routes]] are configured")
    services = open_services(settings)
    try:
        alerter = Alerter(settings, services.archive.blobs)
        for (route, _), channel in alerter.channels.items():
            if not channel.usable and any(r.name == route for r in routes):
                click.echo(f"{route:<16} {channel.label:<40} DISABLED  {channel.problem}")
        with services.db.session() as session:
            queued = [n.id for n in alerter.test(session, routes, utcnow())]
        make_sender(services, alerter).deliver_due()
        outbox = Outbox(services.db)
        failed = 0
        for row in outbox.listing(["sent", "pending", "failed"], limit=10_000):
            if row.id in queued:
                ok = row.status == "sent"
                failed += not ok
                detail = "sent" if ok else f"FAILED    {row.last_error}"
                click.echo(f"{row.route:<16} {row.channel_label:<40} {detail}")
    finally:
        services.close()
    if failed:
        raise click.exceptions.Exit(1)


@alerts_group.command("outbox")
@click.option("--all", "show_all", is_flag=True, help="Include delivered messages.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def outbox(app: AppContext, show_all: bool, as_json: bool) -> None:
    """List pending and failed deliveries (with --all, sent ones too)."""
    settings = app.settings()
    services = open_services(settings)
    tz = settings.agent.timezone
    statuses = ["pending", "sending", "failed", "dropped"] + (["sent"] if show_all else [])
    try:
        rows = Outbox(services.db).listing(statuses, limit=10_000)
    finally:
        services.close()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row.model_dump(mode="json", exclude={"body"}), ensure_ascii=False))
            continue
        when = local(row.sent_at if row.status == "sent" else row.next_attempt_at, tz)
        error = f"  last error: {row.last_error}" if row.last_error and row.status != "sent" else ""
        click.echo(f"{row.id:>5} {row.status:<8} {row.purpose:<10} {row.route:<14} {row.channel_label:<32} "
                   f"attempts {row.attempts:<3} {when}  {row.subject}{error}")
    if not rows and not as_json:
        click.echo("outbox is empty" if show_all else "nothing pending")


@alerts_group.command("flush")
@click.option("--retry-failed", is_flag=True, help="Also retry messages that were given up on.")
@pass_app
def flush(app: AppContext, retry_failed: bool) -> None:
    """Queue due escalations and digests, then deliver everything pending now (exit 1 if any fail)."""
    settings = app.settings()
    services = open_services(settings)
    try:
        alerter = Alerter(settings, services.archive.blobs)
        sender = make_sender(services, alerter)
        if retry_failed:
            sender.outbox.retry_failed(utcnow())
        queued = scheduled_alerts(services, alerter)
        sender.outbox.make_due(utcnow())
        stats = sender.deliver_due(limit=10_000)
        backlog = sender.outbox.backlog()
    finally:
        services.close()
    click.echo(f"queued {queued} escalation/digest message(s); delivered {stats.sent}, "
               f"failed {stats.failed} (will retry), gave up {stats.gave_up}, dropped {stats.dropped}; "
               f"pending now {backlog.get('pending', 0)}")
    for error in dict.fromkeys(stats.errors):
        click.echo(f"  {error}", err=True)
    if stats.failed or stats.gave_up:
        raise click.exceptions.Exit(1)
