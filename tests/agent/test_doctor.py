"""`civicwatch doctor` on a real installation: the sandbox config, its database and Chromium."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import edit_config, run_cli


def doctor(config: Path) -> tuple[int, dict[str, str]]:
    """Exit code, and each check's line by its name."""
    result = run_cli("--config", str(config), "doctor")
    assert result.exception is None, result.exception
    lines = {}
    for line in result.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in ("ok", "WARN", "FAIL"):
            lines[parts[1]] = f"{parts[0]} {parts[2]}"
    return result.exit_code, lines


def test_a_fresh_installation_is_healthy_and_says_what_is_not_yet_done(config_file: Path) -> None:
    code, lines = doctor(config_file)
    assert code == 0, "\n".join(f"{k}: {v}" for k, v in lines.items())
    for name in ("configuration", "database", "storage", "keys", "browser", "links", "clock"):
        assert lines[name].startswith("ok "), lines[name]
    assert "starts and renders" in lines["browser"] and "connect directly" in lines["links"]
    assert lines["daemon"] == "WARN has never run"


def test_private_keys_other_users_can_read_fail_and_say_how_to_fix_it(config_file: Path) -> None:
    doctor(config_file)  # creates the keys; the public signing key is readable by design
    keys = config_file.parent.parent / "keys"
    assert [p.name for p in keys.glob("signing-*.pub")]
    (keys / "signing.key").chmod(0o644)
    result = run_cli("--config", str(config_file), "doctor")
    assert result.exit_code == 1
    assert "FAIL  keys           readable by other users: signing.key" in result.stdout
    assert f"fix: chmod 600 {keys}/*.key" in result.stdout


def test_a_link_proxy_that_cannot_be_reached_fails_naming_it(config_file: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    edit_config(config_file, "[links]", f'[links]\nproxy = "{dead}"')
    code, lines = doctor(config_file)
    assert code == 1
    assert lines["links"].startswith(f"FAIL the proxy {dead} cannot be reached: Connection refused")


def test_a_link_proxy_that_listens_is_reported_with_where_it_is(config_file: Path) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        proxy = f"http://127.0.0.1:{listening.getsockname()[1]}"
        edit_config(config_file, "[links]", f'[links]\nproxy = "{proxy}"')
        code, lines = doctor(config_file)
    assert code == 0, "\n".join(f"{k}: {v}" for k, v in lines.items())
    assert lines["links"] == f"ok link checks go through {proxy}, which accepts connections"


def test_less_free_space_than_the_minimum_fails_the_storage_check_naming_the_setting(config_file: Path) -> None:
    edit_config(config_file, 'min_free_space = "100 MiB"', 'min_free_space = "1000 TiB"')
    code, lines = doctor(config_file)
    assert code == 1
    assert lines["storage"].startswith("FAIL only ")
    assert lines["storage"].endswith("less than [agent] min_free_space (1000.0 TiB): "
                                     "no capture is taken until disk space is freed")
