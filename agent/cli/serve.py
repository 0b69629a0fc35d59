"""``civicwatch serve``: the clerk portal on its own (the daemon serves it too)."""

from __future__ import annotations

import click
import uvicorn

from agent.cli import AppContext, cli, pass_app
from agent.services import open_services
from agent.web.app import create_app


@cli.command("serve")
@click.option("--listen", default=None, help="HOST:PORT (default: [web] listen).")
@pass_app
def serve(app: AppContext, listen: str | None) -> None:
    """Serve the clerk portal (search, captures, findings, export) without running captures."""
    settings = app.settings()
    services = open_services(settings)
    host, _, port = (listen or settings.web.listen).rpartition(":")
    click.echo(f"civicwatch portal on http://{host}:{port}/  (users: civicwatch users add NAME --role clerk)")
    try:
        uvicorn.run(create_app(lambda: services), host=host.strip("[]"), port=int(port), log_level="warning",
                    access_log=False, lifespan="off")
    finally:
        services.close()
