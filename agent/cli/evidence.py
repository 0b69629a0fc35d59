"""``civicwatch verify`` and ``civicwatch keys show``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent.cli import AppContext, cli, pass_app
from agent.evidence import verify_package
from agent.evidence.export import ExportRequest, export
from agent.evidence.signing import public_pem
from agent.evidence.tsa import stamp_pending
from agent.evidence.verify import verify_archive
from agent.services import open_services
from agent.timefmt import parse_day_or_time


@cli.command("verify")
@click.option("--account", "account_id", help="Only this account's chain.")
@click.option("--since", help="Deep-check only what was sealed from this date (the chain is always checked whole).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def verify(app: AppContext, account_id: str | None, since: str | None, as_json: bool) -> None:
    """Re-check every blob hash, signature, chain link and sealed record; name what fails."""
    settings = app.settings()
    start = parse_day_or_time(since, settings.agent.timezone) if since else None
    services = open_services(settings)
    try:
        report = verify_archive(services, account_id, start)
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "manifests": report.manifests, "blobs": report.blobs,
                               "versions": report.versions, "items": report.items,
                               "audit_entries": report.audit_entries,
                               "problems": [{"where": p.where, "what": p.what} for p in report.problems]}))
    else:
        click.echo(f"checked {report.manifests} manifests, {report.blobs} blobs, {report.versions} sealed versions, "
                   f"{report.items} current posts and comments, {report.audit_entries} audit entries")
        for problem in report.problems:
            click.echo(f"PROBLEM  {problem}")
        click.echo("the archive verifies" if report.ok else f"{len(report.problems)} problem(s) found")
    if not report.ok:
        raise click.exceptions.Exit(1)


@cli.group("keys")
def keys_group() -> None:
    """The installation's signing key."""


@keys_group.command("show")
@pass_app
def keys_show(app: AppContext) -> None:
    """Print the public key (PEM) and fingerprint that manifests are signed with."""
    services = open_services(app.settings())
    try:
        signer = services.signer
    finally:
        services.close()
    click.echo(f"fingerprint: {signer.fingerprint}")
    click.echo(public_pem(signer.public).decode().rstrip())


@cli.group("evidence")
def evidence_group() -> None:
    """Evidence packages for records requests and litigation."""


@evidence_group.command("export")
@click.option("--account", "account_id", required=True)
@click.option("--since", help="From this date (YYYY-MM-DD, city time) or ISO time.")
@click.option("--until", help="Up to (not including) this date or time.")
@click.option("--finding", "finding_id", type=int, help="Only the captures that prove this finding.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="The .zip to write.")
@click.option("--by", "by", required=True, help="Who is exporting (for the custody record).")
@click.option("--reason", required=True, help="Why: the records request or case (required).")
@click.option("--case", default=None, help="Case or request number.")
@click.option("--wacz", is_flag=True, help="Also package the WARC files as WACZ (needs civicwatch[wacz]).")
@pass_app
def evidence_export(app: AppContext, account_id: str, since: str | None, until: str | None, finding_id: int | None,
                    out: Path, by: str, reason: str, case: str | None, wacz: bool) -> None:
    """Write a verifiable evidence package (zip) and record its custody."""
    settings = app.settings()
    settings.account(account_id)
    tz = settings.agent.timezone
    request = ExportRequest(account_id=account_id, out=out, by=by, reason=reason, case=case,
                            since=parse_day_or_time(since, tz) if since else None,
                            until=parse_day_or_time(until, tz) if until else None,
                            finding_id=finding_id, wacz=wacz)
    services = open_services(settings)
    try:
        result = export(services, request)
    finally:
        services.close()
    click.echo(f"wrote {result.path}: {result.runs} captures, {result.files} files")
    click.echo(f"sha256 {result.sha256}  (recorded in the audit log with the reason)")


@evidence_group.command("verify")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
def evidence_verify(package: Path) -> None:
    """Check an evidence package offline (the same checks as its verify_package.py)."""
    problems = verify_package.verify(package)
    for problem in problems:
        click.echo(f"PROBLEM  {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s): do not rely on this package")
        raise click.exceptions.Exit(1)
    click.echo("the package verifies: every file, hash, chain link and signature is intact")


@evidence_group.command("stamp")
@pass_app
def evidence_stamp(app: AppContext) -> None:
    """Get RFC 3161 timestamps for manifests still waiting for one ([evidence] tsa_url)."""
    settings = app.settings()
    if settings.evidence.tsa_url is None:
        raise click.UsageError("no [evidence] tsa_url is configured")
    services = open_services(settings)
    try:
        stamped, pending = stamp_pending(services, limit=100_000)
    finally:
        services.close()
    click.echo(f"stamped {stamped} manifest(s); {pending} still pending")
    if pending:
        raise click.exceptions.Exit(1)
