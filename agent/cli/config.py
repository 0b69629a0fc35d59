"""``civicwatch config check``: validate the configuration and summarise it."""

from __future__ import annotations

import click

from agent.cli import AppContext, cli, pass_app
from agent.settings import Settings, SecretValue


def secret_warnings(settings: Settings) -> list[str]:
    """Secrets written into the file itself rather than referenced; pure."""
    warnings = []
    for account in settings.accounts:
        creds = account.credentials
        if creds is None:
            continue
        for name in ("password", "totp_secret"):
            value = getattr(creds, name)
            if isinstance(value, SecretValue) and not value.is_reference:
                warnings.append(
                    f"accounts {account.id!r}: credentials.{name} is written in the file; "
                    "use 'env:NAME', 'file:PATH' or 'cred:NAME'"
                )
    return warnings


def summary(settings: Settings) -> list[str]:
    """Readable lines describing the settings, without any secret; pure."""
    from storage.db import Database

    a, b = settings.agent, settings.browser
    lines = [
        f"configuration: {settings.source or '(defaults and environment only)'}",
        f"data directory: {a.data_dir}",
        f"database: {Database(a.sqlalchemy_url()).describe()}",
        f"browser: {b.executable_path or 'auto (Playwright Chromium, else /usr/lib/chromium/chromium)'}"
        f"{' (headless)' if b.headless else ''}",
        f"concurrency: {a.concurrency}; time zone: {a.timezone}",
        f"accounts: {len(settings.accounts)}",
    ]
    for acc in settings.accounts:
        secrets = ""
        if acc.credentials:
            refs = [f"{n}={getattr(acc.credentials, n).source}" for n in ("password", "totp_secret")
                    if getattr(acc.credentials, n) is not None]
            secrets = "  credentials: " + ", ".join(refs)
        state = "" if acc.enabled else "  (disabled)"
        lines.append(f"  {acc.id:<16} {acc.platform:<9} {str(acc.schedule):<22} {acc.url}{secrets}{state}")
    return lines


@cli.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@pass_app
def config_check(app: AppContext) -> None:
    """Validate the configuration and print a summary (exit 2 when invalid)."""
    settings = app.settings()
    for line in summary(settings):
        click.echo(line)
    warnings = secret_warnings(settings)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo("configuration OK" + (f" ({len(warnings)} warning(s))" if warnings else ""))
