"""``civicwatch rescan``: apply today's rules to the stored archive, without a browser."""

from __future__ import annotations

import json

import click

from agent.alerts.alerter import Alerter
from agent.alerts.delivery import deliver_pending
from agent.cli import AppContext, cli, pass_app
from agent.recorder import finding_json
from agent.rescan import rescan_account
from agent.services import open_services
from agent.timefmt import parse_day_or_time


@cli.command("rescan")
@click.option("--account", "account_id", help="Only this account (default: all).")
@click.option("--since", help="Only items first seen on or after this date (YYYY-MM-DD, city time).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account.")
@click.option("--no-alert", is_flag=True, help="Record findings without alerting (a quiet back-fill).")
@pass_app
def rescan(app: AppContext, account_id: str | None, since: str | None, as_json: bool, no_alert: bool) -> None:
    """Re-run the current content and authorship rules over every stored post and comment."""
    settings = app.settings()
    try:
        start = parse_day_or_time(since, settings.agent.timezone) if since else None
    except ValueError:
        raise click.BadParameter(f"{since!r} is not a date like 2026-01-31", param_hint="--since") from None
    accounts = [settings.account(account_id)] if account_id else settings.accounts
    services = open_services(settings)
    alerter = None if no_alert else Alerter(settings, services.archive.blobs)
    try:
        for account in accounts:
            result = rescan_account(services, account, start, alerter)
            if as_json:
                click.echo(json.dumps({
                    "account": result.account, "items": result.items, "seen": result.seen,
                    "new": [finding_json(r) for r in result.new],
                    "reopened": [finding_json(r) for r in result.reopened],
                }, ensure_ascii=False))
                continue
            click.echo(f"{account.id}: {result.items} items rescanned, {len(result.new)} new findings, "
                       f"{len(result.reopened)} reopened, {result.seen} already known")
            for r in result.new + result.reopened:
                click.echo(f"  #{r.finding.id} {r.finding.severity:<8} {r.finding.summary}")
        if alerter is not None:
            deliver_pending(services, settings.alerts.check_wait.total_seconds())
    finally:
        services.close()
