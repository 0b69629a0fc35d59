"""``civicwatch config check``: validate the configuration and summarise it."""

from __future__ import annotations

import click

from agent.cli import AppContext, cli, pass_app
from agent.settings import Settings, SecretValue


#: switches Playwright passes itself; Chromium honours only the last of each
FEATURE_SWITCHES = ("--disable-features", "--enable-features")


def config_warnings(settings: Settings) -> list[str]:
    """Things that work but probably should not be so: literal secrets, disabled channels, flags that
    undo Playwright's; pure."""
    warnings = []
    for route in settings.alerts.routes:
        for ref in route.channels:
            if ref.problem:
                warnings.append(f"alert route {route.name!r}: channel {ref.source} is disabled: {ref.problem}")
        if not route.channels:
            warnings.append(f"alert route {route.name!r} has no channels")
    proxy = settings.links.proxy
    if proxy is not None and not proxy.is_reference and "@" in proxy.get_secret_value():
        warnings.append("[links] proxy has credentials written in the file; use 'env:NAME', 'file:PATH' or 'cred:NAME'")
    for arg in settings.browser.args:
        switch = arg.split("=", 1)[0]
        if switch in FEATURE_SWITCHES:
            warnings.append(
                f"[browser] args: {switch} replaces the one Playwright passes (Chromium keeps only the last), "
                "so the features Playwright turns off for reliable automation come back on; leave it out "
                "unless that is what you want"
            )
    if settings.alerts.routes and not settings.alerts.portal_url:
        warnings.append("[alerts] portal_url is not set: alert messages will not link to the findings")
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
        f"browser: {b.executable_path or 'found automatically (`civicwatch browser path` shows which)'}"
        f"{' (headless)' if b.headless else ''}",
        f"concurrency: {a.concurrency}; time zone: {a.timezone}",
        f"link checks: {link_route(settings)}",
        f"alert routes: {', '.join(r.name for r in settings.alerts.routes) or 'none'}",
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


def link_route(settings: Settings) -> str:
    """How link checks reach the web: off, direct, or through which proxy; pure."""
    links = settings.links
    if not links.enabled:
        return "off"
    http, https = links.proxies()
    if http is None and https is None:
        return "direct" + (" ([links] proxy = \"none\")" if links.proxy is not None else "")
    where = "[links] proxy" if links.proxy is not None else "the environment"
    route = f"through the proxy {https}" if http == https else (
        f"https links {f'through {https}' if https else 'direct'}, http links {f'through {http}' if http else 'direct'}")
    bypass = links.bypass()
    return f"{route} (from {where})" + (f"; direct to {', '.join(bypass)}" if bypass else "")


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
    warnings = config_warnings(settings)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo("configuration OK" + (f" ({len(warnings)} warning(s))" if warnings else ""))
