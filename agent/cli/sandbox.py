"""``civicwatch sandbox serve``: the built-in imitation social network."""

from __future__ import annotations

import click

from agent.cli import cli
from sandbox.app import create_app
from sandbox.seed import DEMO_SPECS, seed
from sandbox.server import serve_forever
from sandbox.state import SandboxState


@cli.group("sandbox")
def sandbox_group() -> None:
    """The built-in sandbox network (for trying civicwatch and for its tests)."""


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--seed", "seed_name", type=click.Choice(["demo", "bench"]), default="demo", show_default=True)
@click.option("--accounts", default=50, show_default=True, help="Bench seed: number of pages.")
@click.option("--posts", default=40, show_default=True, help="Bench seed: posts per page.")
def serve(host: str, port: int, seed_name: str, accounts: int, posts: int) -> None:
    """Serve the sandbox in the foreground until Ctrl-C."""
    state = SandboxState()
    state.replace(*seed(seed_name, accounts, posts))
    click.echo(f"sandbox network on http://{host}:{port}/  (admin API under /_admin)")
    if seed_name == "demo":
        for spec in DEMO_SPECS:
            click.echo(f"  /p/{spec.slug:<8} sign in as {spec.username}")
    serve_forever(create_app(state), host, port)
