"""``civicwatch check``: capture accounts now."""

from __future__ import annotations

import asyncio
import json

import click

from agent.cli import AppContext, cli, pass_app
from agent.printable import printable
from agent.runner import RunReport, run_checks
from agent.services import open_services


def _line(report: RunReport) -> str:
    """One run in words; what came from the page cannot drive the terminal; pure."""
    if report.status != "ok":
        return f"{report.account:<16} FAILED  {report.error_code}: {printable(report.error or '')}"
    gaps = "".join(f"\n{'':<16} warning: {printable(w)}" for w in report.warnings)
    artifacts = sum(len(c["artifacts"]) for c in report.captures)
    links = report.links
    failing = f" ({links['broken']} failing)" if links.get("broken") else ""
    return (
        f"{report.account:<16} ok      {report.posts_seen} items ({report.posts_new} new), "
        f"{artifacts} artifacts, {links.get('checked', 0)} links{failing}, {len(report.findings)} findings  "
        f"run {report.run_id}{gaps}"
    )


@cli.command("check")
@click.argument("account_ids", nargs=-1)
@click.option("--all", "all_accounts", is_flag=True, help="Check every enabled account.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per run (JSON Lines).")
@click.option("--force-login", is_flag=True,
              help="Sign in even if the login guard is pausing attempts (after you fixed the password).")
@pass_app
def check(app: AppContext, account_ids: tuple[str, ...], all_accounts: bool, as_json: bool,
          force_login: bool) -> None:
    """Capture the named accounts (or --all) now, `[agent] concurrency` at a time."""
    if all_accounts == bool(account_ids):
        raise click.UsageError("name one or more account ids, or use --all (not both)")
    settings = app.settings()
    accounts = (
        [a for a in settings.accounts if a.enabled]
        if all_accounts
        else [settings.account(i) for i in dict.fromkeys(account_ids)]
    )
    if not accounts:
        raise click.UsageError("no enabled accounts in the configuration")

    def emit(report: RunReport) -> None:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False) if as_json else _line(report))

    services = open_services(settings)
    try:
        reports = asyncio.run(run_checks(services, accounts, emit, force_login))
    finally:
        services.close()
    if any(r.status != "ok" for r in reports):
        raise click.exceptions.Exit(1)
