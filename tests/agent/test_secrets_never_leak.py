"""A canary password must never appear in output, logs, the database or evidence files."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import load_settings
from tests.conftest import Site, edit_config, run_cli

CANARY = "Canary-Pa55word-7f3a9c"


def files_containing(root: Path, needle: bytes, skip: Path) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and skip not in path.parents and needle in path.read_bytes():
            hits.append(path)
    return hits


def test_canary_password_is_never_written_anywhere(
    config_file: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.admin.patch_account("parks", password=CANARY)
    edit_config(config_file, 'password = "file:secrets/parks.password"', 'password = "env:CW_CANARY"')
    monkeypatch.setenv("CW_CANARY", CANARY)
    args = ["--log-level", "DEBUG", "--config", str(config_file), "check", "parks", "--json"]
    ok = run_cli(*args)
    assert '"status": "ok"' in ok.stdout, ok.stderr
    site.admin.patch_account("parks", password="now-different")
    site.admin.expire_sessions("parks")
    failed = run_cli(*args)
    assert '"status": "failed"' in failed.stdout
    shown = run_cli("--config", str(config_file), "config", "check")
    for result in (ok, failed, shown):
        assert CANARY not in result.stdout and CANARY not in result.stderr
    data_dir = load_settings(config_file).agent.data_dir
    assert files_containing(data_dir, CANARY.encode(), skip=data_dir / "demo" / "secrets") == []


def test_a_password_echoed_by_the_site_is_masked_in_the_error(config_file: Path, site: Site) -> None:
    """Defence in depth: if a hostile site puts the password into its error text, we mask it."""
    from agent.redact import redact, remember

    remember(CANARY)
    assert redact(f"the site refused the login: bad password {CANARY}") == (
        "the site refused the login: bad password ***"
    )
