"""Operations: ``civicwatch doctor`` and ``civicwatch db backup``."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import click

from agent.cli import AppContext, cli, pass_app
from agent.cli.config import config_warnings
from agent.doctor import diagnose, running_as_root
from agent.services import open_services

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@cli.command("doctor")
@pass_app
def doctor(app: AppContext) -> None:
    """Check the configuration, database, storage, keys, browser, alert channels, link proxy, clock and daemon."""
    settings = app.settings()
    click.echo(f"ok    configuration  {settings.source}")
    for warning in config_warnings(settings):
        click.echo(f"WARN  configuration  {warning}")
    if running_as_root():
        click.echo("WARN  user           running as root; run civicwatch as its own user (docs/operations.md)")
    services = open_services(settings)
    try:
        checks = diagnose(services)
    finally:
        services.close()
    for check in checks:
        click.echo(f"{_MARK[check.status]}  {check.name:<13}  {check.detail}")
        if check.fix and check.status != "ok":
            click.echo(f"{'':<6}{'':<13}  fix: {check.fix}")
    if any(c.status == "fail" for c in checks):
        raise click.exceptions.Exit(1)


@cli.group("db")
def db_group() -> None:
    """The evidence database."""


@db_group.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
@pass_app
def backup(app: AppContext, destination: Path) -> None:
    """Write a consistent copy of the SQLite database while civicwatch keeps running."""
    settings = app.settings()
    services = open_services(settings)
    try:
        if not services.db.is_sqlite:
            raise click.UsageError("the database is PostgreSQL: back it up with pg_dump (docs/operations.md)")
        source_path = services.db.url.database
    finally:
        services.close()
    if destination.exists():
        raise click.UsageError(f"{destination} exists; choose a new file name")
    if not destination.parent.is_dir():
        raise click.UsageError(f"{destination.parent} is not a directory; create it first")
    try:
        with closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(destination)) as target, target:
            source.backup(target)  # SQLite's online backup API: a consistent snapshot
        destination.chmod(0o640)
    except (sqlite3.Error, OSError) as exc:
        destination.unlink(missing_ok=True)  # no half-written copy that looks like a backup
        raise click.ClickException(f"the backup to {destination} failed: {exc}; nothing was written") from exc
    click.echo(f"database copied to {destination}; also copy {settings.agent.data_dir / 'blobs'} and "
               f"{settings.agent.data_dir / 'keys'} (see docs/operations.md)")
