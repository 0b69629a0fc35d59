"""``civicwatch users``: who may sign in to the portal."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import select

from agent.cli import AppContext, cli, pass_app
from agent.services import open_services
from agent.web.auth import ROLES, create_user, set_password
from storage import audit
from storage.models import User, WebSession


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        return password_file.read_text(encoding="utf-8").rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@cli.group("users")
def users_group() -> None:
    """Portal users: clerks, supervisors, admins."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-file", type=click.Path(exists=True, path_type=Path),
              help="Read the password from a file (else it is asked for).")
@pass_app
def add(app: AppContext, name: str, role: str, password_file: Path | None) -> None:
    """Add a user (clerk: read, search, export; supervisor: also resolve findings; admin: also users, audit)."""
    services = open_services(app.settings())
    try:
        with services.db.session() as s:
            create_user(s, name, role, _password(password_file))
        audit.append(services.db, "civicwatch users add (CLI)", "user_add", name, {"role": role})
    finally:
        services.close()
    click.echo(f"user {name} added as {role}")


@users_group.command("password")
@click.argument("name")
@click.option("--password-file", type=click.Path(exists=True, path_type=Path))
@pass_app
def password(app: AppContext, name: str, password_file: Path | None) -> None:
    """Set a new password (also lifts a lockout)."""
    services = open_services(app.settings())
    try:
        with services.db.session() as s:
            set_password(s, name, _password(password_file))
        audit.append(services.db, "civicwatch users password (CLI)", "user_password", name)
    finally:
        services.close()
    click.echo(f"password of {name} changed")


@users_group.command("disable")
@click.argument("name")
@pass_app
def disable(app: AppContext, name: str) -> None:
    """Stop a user from signing in and end their sessions."""
    _set_disabled(app, name, True)
    click.echo(f"user {name} disabled")


@users_group.command("enable")
@click.argument("name")
@pass_app
def enable(app: AppContext, name: str) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(app, name, False)
    click.echo(f"user {name} enabled")


def _set_disabled(app: AppContext, name: str, disabled: bool) -> None:
    """Disable a user (ending their sessions) or enable them again; audited."""
    action = "disable" if disabled else "enable"
    services = open_services(app.settings())
    try:
        with services.db.session() as s:
            user = s.exec(select(User).where(User.name == name)).first()
            if user is None:
                raise click.UsageError(f"no user named {name!r}")
            user.disabled = disabled
            s.add(user)
            if disabled:
                for row in s.exec(select(WebSession).where(WebSession.user_id == user.id)).all():
                    s.delete(row)
        audit.append(services.db, f"civicwatch users {action} (CLI)", f"user_{action}", name)
    finally:
        services.close()


@users_group.command("list")
@pass_app
def list_users(app: AppContext) -> None:
    """List users and their roles."""
    services = open_services(app.settings())
    try:
        with services.db.session() as s:
            rows = s.exec(select(User).order_by(User.name)).all()
    finally:
        services.close()
    for u in rows:
        state = " (disabled)" if u.disabled else ""
        click.echo(f"{u.name:<24} {u.role:<11}{state}")
    if not rows:
        click.echo("no users; add one with `civicwatch users add NAME --role admin`")
