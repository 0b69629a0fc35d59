"""`civicwatch users`: portal users managed from the command line, each change audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from agent.services import open_services
from agent.settings import load_settings
from agent.web.auth import AuthError, Policy, authenticate
from storage.clock import utcnow
from storage.models import AuditEntry
from tests.conftest import run_cli

PASSWORD = "correct horse battery staple"


def users(config: Path, *args: str) -> tuple[int, str]:
    result = run_cli("--config", str(config), "users", *args)
    return result.exit_code, result.stdout + result.stderr


def can_sign_in(config: Path, name: str, password: str) -> bool:
    services = open_services(load_settings(config))
    try:
        with services.db.session() as s:
            policy = Policy(max_failures=100, lockout=timedelta(0), idle=timedelta(hours=1), lifetime=timedelta(hours=8))
            try:
                authenticate(s, name, password, utcnow(), policy)
            except AuthError:
                return False
            return True
    finally:
        services.close()


def audited(config: Path) -> list[tuple[str, str]]:
    services = open_services(load_settings(config))
    try:
        with services.db.session() as s:
            return [(a.action, a.target) for a in s.exec(select(AuditEntry).order_by(AuditEntry.seq))]
    finally:
        services.close()


def test_a_user_is_added_disabled_enabled_and_given_a_new_password(config_file: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "pw1", tmp_path / "pw2"
    first.write_text(PASSWORD + "\n")
    second.write_text("another long passphrase\n")
    assert users(config_file, "add", "ana", "--role", "clerk", "--password-file", str(first))[0] == 0
    assert can_sign_in(config_file, "ana", PASSWORD)
    assert users(config_file, "disable", "ana") == (0, "user ana disabled\n")
    assert not can_sign_in(config_file, "ana", PASSWORD)
    assert "ana" in users(config_file, "list")[1] and "(disabled)" in users(config_file, "list")[1]
    assert users(config_file, "enable", "ana") == (0, "user ana enabled\n")
    assert can_sign_in(config_file, "ana", PASSWORD)
    assert users(config_file, "password", "ana", "--password-file", str(second))[0] == 0
    assert not can_sign_in(config_file, "ana", PASSWORD) and can_sign_in(config_file, "ana", "another long passphrase")
    assert [a for a in audited(config_file) if a[1] == "ana"] == [
        ("user_add", "ana"), ("user_disable", "ana"), ("user_enable", "ana"), ("user_password", "ana")]


def test_mistakes_are_named_and_change_nothing(config_file: Path, tmp_path: Path) -> None:
    short, good = tmp_path / "short", tmp_path / "good"
    short.write_text("tooshort\n")
    good.write_text(PASSWORD + "\n")
    code, out = users(config_file, "add", "bo", "--role", "supervisor", "--password-file", str(short))
    assert code == 1 and "a password needs at least 12 characters" in out
    assert users(config_file, "add", "bo", "--role", "supervisor", "--password-file", str(good))[0] == 0
    code, out = users(config_file, "add", "bo", "--role", "admin", "--password-file", str(good))
    assert code == 1 and "a user named 'bo' exists" in out
    for command in ("disable", "enable"):
        code, out = users(config_file, command, "nobody")
        assert code == 2 and "no user named 'nobody'" in out
    assert users(config_file, "list")[1].split() == ["bo", "supervisor"]
