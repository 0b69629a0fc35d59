"""``civicwatch links``: check links now, and report every account's links."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import click

from agent.cli import AppContext, cli, pass_app
from flows.linkcheck import LinkChecker, LinkResult

if TYPE_CHECKING:
    from storage.models import AccountLink, LinkCheck

T = TypeVar("T")
REPORT_FIELDS = ("account", "url", "status", "error_class", "message", "http_status", "failed_runs",
                 "sources", "final_url", "redirects", "last_checked_at", "last_ok_at")


@cli.group("links")
def links_group() -> None:
    """Link health: check links now, or report what the runs found."""


@links_group.command("check")
@click.argument("urls", nargs=-1, required=True)
@click.option("--allow-private", "allow", multiple=True, metavar="RANGE",
              help="Also fetch this private/loopback range (adds to [links] allow_private).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def check_links(app: AppContext, urls: tuple[str, ...], allow: tuple[str, ...], as_json: bool) -> None:
    """Check the given links now (nothing is stored). Exit 1 when any is broken.

    Uses [links] from the config file when there is one, else the defaults.
    """
    settings = app.settings(require_file=False).links
    if allow:
        settings = settings.model_copy(update={"allow_private": [*settings.allow_private, *allow]})
    policy = settings.policy()

    async def run() -> dict[str, LinkResult]:
        async with LinkChecker(policy) as checker:
            return await checker.check_all(urls)

    results = _run(run())
    for url in dict.fromkeys(u.strip() for u in urls):
        result = results[url]
        if as_json:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
            continue
        label = result.status.upper() if result.status != "ok" else "ok"
        cls = f" [{result.error_class}]" if result.error_class else ""
        click.echo(f"{label:<8} {url}{cls} {result.message} ({result.elapsed_ms} ms)")
        for hop in result.redirects:
            click.echo(f"         {hop.status} {hop.url}")
    if any(r.broken for r in results.values()):
        sys.exit(1)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it is installed (less CPU per request), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


@links_group.command("report")
@click.option("--account", help="Only this account.")
@click.option("--broken", is_flag=True, help="Only links failing now.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@pass_app
def report(app: AppContext, account: str | None, broken: bool, as_json: bool, as_csv: bool) -> None:
    """Every link the accounts publish and how its last check went, broken first."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    # imported here: `links check` needs neither the database nor the archive
    from agent.services import open_services
    from agent.timefmt import local
    from storage import links as link_store

    services = open_services(app.settings())
    tz = services.settings.agent.timezone
    try:
        with services.db.session() as session:
            rows = link_store.report(session, account, broken)
            checks = link_store.checks_for(session, {r.url for r in rows})
    finally:
        services.close()
    records = [_record(row, checks.get(row.url)) for row in rows]
    if as_json:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
    elif as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=REPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "sources": " ".join(record["sources"]),
                             "redirects": " ".join(f"{h['status']} {h['url']}" for h in record["redirects"])})
        click.echo(out.getvalue(), nl=False)
    else:
        for row in rows:
            cls = f" [{row.error_class}]" if row.error_class else ""
            failed = f", failed {row.consecutive_failures} run(s) in a row" if row.consecutive_failures else ""
            click.echo(f"{row.status:<8} {row.account_id:<14} {row.url}{cls} {row.message}{failed} "
                       f"(checked {local(row.last_checked_at, tz)}; in {', '.join(row.sources) or '-'})")
        if not rows:
            click.echo("no links recorded yet" if not broken else "no broken links")


def _record(row: AccountLink, check: LinkCheck | None) -> dict[str, Any]:
    return {
        "account": row.account_id, "url": row.url, "status": row.status, "error_class": row.error_class,
        "message": row.message, "http_status": row.http_status, "failed_runs": row.consecutive_failures,
        "sources": row.sources, "final_url": check.final_url if check else None,
        "redirects": check.redirects if check else [],
        "last_checked_at": row.last_checked_at.isoformat(),
        "last_ok_at": row.last_ok_at.isoformat() if row.last_ok_at else None,
    }
