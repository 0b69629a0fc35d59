"""`civicwatch demo` runs the whole product against its own sandbox, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent.settings import load_settings


def test_demo_checks_four_accounts_and_leaves_the_data(tmp_path: Path) -> None:
    data = tmp_path / "var"
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "demo", "--data-dir", str(data), "--port", "0"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for account in ("parks", "library", "police", "city-site"):
        assert f"\n{account}" in "\n" + out
    assert out.count(" ok ") == 4
    assert "archive: 4 runs, 58 posts" in out
    # the city site's department pages link to four forms that are gone: failing once, not yet reported
    assert "city-site        ok      5 items (5 new), 12 artifacts" in out and "(4 failing)" in out
    assert "open findings: 5" in out
    assert "alerts delivered to the sandbox's test inbox: 5" in out
    assert "[civicwatch] HIGH public_posting_enabled: Springfield Police Department" in out
    config = data / "demo" / "civicwatch.toml"
    assert config.exists() and "file:secrets/parks.password" in config.read_text()
    assert (data / "demo" / "secrets" / "parks.password").stat().st_mode & 0o777 == 0o600
    settings = load_settings(config)
    assert settings.agent.data_dir == data.resolve()
    assert (data / "civicwatch.db").exists() and any((data / "blobs").rglob("*"))


def test_running_the_demo_again_signs_in_again_whatever_the_login_guard_allows(tmp_path: Path) -> None:
    # Each demo starts a fresh sandbox, so every run signs in anew; with one attempt an hour
    # allowed, the second run would be refused by the guard that protects real accounts.
    data = tmp_path / "var"
    env = {**os.environ, "CIVICWATCH_AGENT__LOGIN_ATTEMPTS_PER_HOUR": "1"}
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "agent", "demo", "--data-dir", str(data), "--port", "0"],
            capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env, check=False,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert proc.stdout.count(" ok ") == 4
        assert "could not be signed in" not in proc.stdout
