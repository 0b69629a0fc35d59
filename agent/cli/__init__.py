"""The ``civicwatch`` command line. Exit codes: 0 success, 1 a run or check failed, 2 usage or config error."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from agent.errors import CivicwatchError, ConfigError
from agent.logs import setup_logging
from agent.redact import redact
from agent.settings import Settings, load_settings


class AppContext:
    """What every command can reach: the config path, and settings loaded on first use."""

    def __init__(self, config: Path | None, log_level: str | None, log_json: bool) -> None:
        self.config = config
        self.log_level = log_level
        self.log_json = log_json
        self._settings: Settings | None = None

    def settings(self, require_file: bool = True) -> Settings:
        """The settings; with ``require_file=False`` a missing default file means defaults."""
        if self._settings is None:
            self._settings = load_settings(self.config, require_file=require_file or self.config is not None)
            agent = self._settings.agent
            setup_logging(self.log_level or agent.log_level, "json" if self.log_json else agent.log_format)
        return self._settings


#: command name -> the module that registers it on `cli` when imported. Modules are
#: imported only when their command runs (or help lists it), so `civicwatch links check`
#: does not pay for the browser, the web portal and the database layer.
COMMANDS = {
    "alerts": "alerts", "browser": "browser", "check": "check", "config": "config", "demo": "demo",
    "verify": "evidence", "keys": "evidence", "evidence": "evidence", "findings": "findings",
    "links": "links", "doctor": "ops", "db": "ops", "hold": "records", "retention": "records",
    "rescan": "rescan", "run": "run", "status": "run", "sandbox": "sandbox", "serve": "serve",
    "users": "users",
}


class CivicwatchGroup(click.Group):
    """Loads command modules on demand; turns civicwatch errors into one clear line and exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"agent.cli.{COMMANDS[cmd_name]}")
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(redact(f"civicwatch: configuration error: {exc}"), err=True)
            ctx.exit(2)
        except CivicwatchError as exc:
            click.echo(redact(f"civicwatch: {exc.code}: {exc}"), err=True)
            ctx.exit(1)


pass_app = click.make_pass_decorator(AppContext)


@click.group(cls=CivicwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "-c", type=click.Path(path_type=Path), default=None,
    help="Config file (default: $CIVICWATCH_CONFIG, else ./civicwatch.toml).",
)
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default=None, help="Override [agent] log_level.")
@click.option("--log-json", is_flag=True, help="Log JSON lines instead of text.")
@click.version_option(package_name="civicwatch", prog_name="civicwatch")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, log_level: str | None, log_json: bool) -> None:
    """civicwatch: archive, check and police a city's official accounts, unattended."""
    ctx.obj = AppContext(config, log_level, log_json)
    setup_logging(log_level or "WARNING", "json" if log_json else "text")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="civicwatch")


def load_all_commands() -> None:
    """Import every command module (documentation checks walk the whole tree)."""
    for module in sorted(set(COMMANDS.values())):
        importlib.import_module(f"agent.cli.{module}")
