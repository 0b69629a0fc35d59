"""``civicwatch demo``: run the whole product once against the built-in sandbox."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import click

from agent.cli import AppContext, cli, pass_app
from agent.cli.check import _line
from agent.demo import pick_port, write_demo_files
from agent.runner import RunReport, run_checks
from agent.services import Services, open_services
from sandbox.app import create_app
from sandbox.client import SandboxAdmin
from sandbox.server import ThreadedServer


def _evidence_summary(services: Services) -> list[str]:
    from sqlalchemy import func
    from sqlmodel import select

    from storage.models import Blob, Comment, Post, Run

    with services.db.session() as session:
        runs = session.exec(select(func.count()).select_from(Run)).one()
        posts = session.exec(select(func.count()).select_from(Post)).one()
        comments = session.exec(select(func.count()).select_from(Comment)).one()
        blobs, size = session.exec(select(func.count(), func.coalesce(func.sum(Blob.size), 0))).one()
    data_dir = services.settings.agent.data_dir
    return [
        f"archive: {runs} runs, {posts} posts, {comments} comments, {blobs} evidence files ({size / 1e6:.1f} MB)",
        f"  database:   {services.db.describe()}",
        f"  blobs:      {data_dir / 'blobs'} (each file named by its sha256)",
        f"  sessions:   {data_dir / 'sessions'} (encrypted)",
    ]


def _findings_summary(services: Services) -> list[str]:
    from storage import findings

    with services.db.session() as session:
        rows = findings.query(session, status="open")
    lines = ["", f"open findings: {len(rows)}"]
    lines += [f"  #{f.id:<3} {f.severity:<8} {f.account_id:<8} {f.summary}" for f in reversed(rows)]
    return lines


@cli.command("demo")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("var"), show_default=True,
              help="Where the demo keeps its data, config and secrets.")
@click.option("--port", type=int, default=None, help="Sandbox port (default 8471 if free, else any).")
@click.option("--keep-serving", is_flag=True, help="Keep the sandbox running after the checks (Ctrl-C stops).")
@pass_app
def demo(app: AppContext, data_dir: Path, port: int | None, keep_serving: bool) -> None:
    """Start the sandbox network, check its three demo accounts, and show what was archived."""
    server = ThreadedServer(create_app(), "127.0.0.1", pick_port() if port is None else port)
    base_url = server.start()
    try:
        config = write_demo_files(data_dir, base_url)
        app.config = config
        app.log_level = app.log_level or "WARNING"  # the summary below is the demo's output
        settings = app.settings()
        click.echo(f"sandbox network: {base_url}")
        click.echo(f"config written:  {config}  (secrets in {config.parent / 'secrets'})")
        click.echo("")
        services = open_services(settings)
        try:
            # The sandbox is started afresh, so every demo signs in anew; the login guard
            # protects real accounts from lock-outs and is not asked here.
            reports: list[RunReport] = asyncio.run(
                run_checks(services, settings.accounts, lambda r: click.echo(_line(r)), force_login=True)
            )
            click.echo("")
            for line in _evidence_summary(services) + _findings_summary(services):
                click.echo(line)
            received = SandboxAdmin(base_url).inbox()
            click.echo(f"\nalerts delivered to the sandbox's test inbox: {len(received)}")
            for message in received:
                click.echo(f"  {message['payload'].get('title', '')}")
        finally:
            services.close()
        click.echo("")
        click.echo("next:")
        click.echo(f"  civicwatch --config {config} findings list")
        click.echo(f"  civicwatch --config {config} findings show 1")
        click.echo(f"  civicwatch --config {config} check --all --json")
        click.echo("  (the sandbox stops when the demo ends; use --keep-serving to keep it up)")
        if keep_serving:
            click.echo(f"serving {base_url} until Ctrl-C")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
    finally:
        server.stop()
    if any(r.status != "ok" for r in reports):
        raise click.exceptions.Exit(1)
