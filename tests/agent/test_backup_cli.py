"""`civicwatch db backup`: a consistent copy of the SQLite database, or a clear refusal."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from tests.agent.conftest import Check
from tests.conftest import run_cli


def rows(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in ("run", "capture", "post", "artifact", "manifest")}
    finally:
        connection.close()


def test_the_backup_holds_every_captured_row_and_only_its_owner_group_can_read_it(
    check: Check, config_file: Path, tmp_path: Path
) -> None:
    check("police")
    copy = tmp_path / "backup.db"
    result = run_cli("--config", str(config_file), "db", "backup", str(copy))
    assert result.exit_code == 0, result.stderr
    assert "also copy" in result.stdout and "blobs" in result.stdout and "keys" in result.stdout
    live = rows(config_file.parent.parent / "civicwatch.db")
    assert live["post"] > 0 and rows(copy) == live
    assert stat.S_IMODE(copy.stat().st_mode) == 0o640


def test_an_existing_file_or_a_missing_directory_is_refused_and_nothing_is_written(
    config_file: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "kept.db"
    existing.write_bytes(b"an older backup")
    refused = run_cli("--config", str(config_file), "db", "backup", str(existing))
    assert refused.exit_code == 2 and f"{existing} exists; choose a new file name" in refused.stderr
    assert existing.read_bytes() == b"an older backup"
    nowhere = tmp_path / "no-such-dir" / "b.db"
    missing = run_cli("--config", str(config_file), "db", "backup", str(nowhere))
    assert missing.exit_code == 2 and "is not a directory; create it first" in missing.stderr
    assert not nowhere.parent.exists()
