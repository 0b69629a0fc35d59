"""``civicwatch browser``: which Chromium civicwatch uses."""

from __future__ import annotations

import asyncio

import click

from agent.browser import locate_chromium
from agent.cli import AppContext, cli, pass_app
from agent.settings import load_settings


@cli.group("browser")
def browser_group() -> None:
    """The Chromium civicwatch drives."""


@browser_group.command("path")
@pass_app
def browser_path(app: AppContext) -> None:
    """Print the Chromium that would be launched (exit 1 with install advice if none)."""
    settings = load_settings(app.config, require_file=bool(app.config))
    click.echo(asyncio.run(locate_chromium(settings.browser)))
