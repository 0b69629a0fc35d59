"""`civicwatch run` as a real process: scheduling, health, reload, stop, and crash recovery."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from agent.errors import StorageError
from agent.settings import load_settings
from storage.db import Database
from storage.models import Artifact, Run
from tests.conftest import Site, edit_config, run_cli, set_key
from tests.agent.test_robustness import chromium_pids


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``condition()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class DaemonProcess:
    def __init__(self, config: Path) -> None:
        self.config = config
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        text = config.read_text()
        if "[web]" not in text:
            config.write_text(text + f'\n[web]\nlisten = "127.0.0.1:{self.port}"\n')
        self.log = config.parent / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "agent", "--config", str(self.config), "run"],
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._up, 60, "the daemon's /healthz")
        return self

    def _up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log.read_text()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def health(self) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json()

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text

    def send(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def daemon(config_file: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(config_file)
    yield process
    process.stop()


def runs(config: Path) -> list[Run]:
    db = Database(load_settings(config).agent.sqlalchemy_url())
    try:
        with db.session() as s:
            return list(s.exec(select(Run).order_by(Run.started_at)).all())
    finally:
        db.dispose()


def test_the_daemon_runs_never_run_accounts_at_once_and_reports_health_and_metrics(
    daemon: DaemonProcess, config_file: Path
) -> None:
    daemon.start()
    health = wait_for(lambda: (h := daemon.health()) and all(a["last_success"] for a in h["accounts"].values()) and h,
                      120, "a first successful run of every account")
    assert health["status"] == "ok" and health["scheduler"] == {"running": True, "jobs": 4}
    assert all(a["next_run"] for a in health["accounts"].values())
    metrics = daemon.metrics()
    assert 'civicwatch_runs_total{account="parks",status="ok"} 1.0' in metrics
    assert 'civicwatch_findings_open{kind="unauthorized_author"} 1.0' in metrics
    assert "civicwatch_run_duration_seconds_bucket" in metrics
    ok_runs = sum(float(line.split()[-1]) for line in metrics.splitlines()
                  if line.startswith("civicwatch_runs_total{") and 'status="ok"' in line)
    assert f'civicwatch_run_phase_seconds_count{{phase="owner view"}} {ok_runs}' in metrics
    data_dir = load_settings(config_file).agent.data_dir
    assert f'civicwatch_storage_free_bytes{{path="{data_dir}"}}' in metrics
    assert health["storage"] == {"low_space": None}
    status = json.loads(run_cli("--config", str(config_file), "status", "--json").stdout)
    assert status["daemon"]["running"] is True
    assert {a["account"]: a["last_run"]["status"] for a in status["accounts"]} == {
        "parks": "ok", "library": "ok", "police": "ok", "city-site": "ok"}
    assert all(a["next_run"] for a in status["accounts"])
    assert daemon.proc is not None
    theirs = chromium_pids(daemon.proc.pid)  # once the daemon is gone they are no longer its descendants
    daemon.send(signal.SIGTERM)
    assert daemon.wait_exit(60) == 0
    wait_for(lambda: not [pid for pid in theirs if alive(pid)], 20, "the daemon's Chromium to exit")
    stopped = json.loads(run_cli("--config", str(config_file), "status", "--json").stdout)
    assert stopped["daemon"]["running"] is False


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_disk_short_of_space_degrades_health_and_every_run_fails_saying_why(
    daemon: DaemonProcess, config_file: Path
) -> None:
    edit_config(config_file, 'min_free_space = "100 MiB"', 'min_free_space = "1000 TiB"')
    daemon.start()
    health = wait_for(lambda: (h := daemon.health()) and len(h["accounts_failing"]) == 4 and h,
                      60, "every account's first run to be refused")
    assert health["status"] == "degraded"
    assert health["storage"]["low_space"].endswith("less than [agent] min_free_space (1000.0 TiB): "
                                                   "no capture is taken until disk space is freed")
    assert {(r.status, r.error_code) for r in runs(config_file)} == {("failed", "disk_full")}
    assert daemon.proc is not None and daemon.proc.poll() is None  # still running, ready for when space is freed


def test_sighup_reloads_jobs_and_refuses_a_broken_file(daemon: DaemonProcess, config_file: Path) -> None:
    daemon.start()
    wait_for(lambda: len(runs(config_file)) == 4, 120, "the first runs")
    set_key(config_file, "police", "enabled", "false")
    set_key(config_file, "parks", "schedule", '"every 6h"')
    daemon.send(signal.SIGHUP)
    wait_for(lambda: daemon.health()["scheduler"]["jobs"] == 3, 30, "the police job to be removed")
    good = config_file.read_text()
    config_file.write_text(good + "\nthis is not toml\n")
    daemon.send(signal.SIGHUP)
    wait_for(lambda: "reload refused" in daemon.log.read_text(), 30, "the refusal in the log")
    assert daemon.health()["status"] == "ok" and daemon.health()["scheduler"]["jobs"] == 3
    config_file.write_text(good)
    status = json.loads(run_cli("--config", str(config_file), "status", "--json").stdout)
    schedules = {a["account"]: a["schedule"] for a in status["accounts"]}
    assert schedules["parks"] == "every 6h"


def test_sigterm_during_a_capture_stops_within_the_grace_and_records_the_run(
    daemon: DaemonProcess, config_file: Path, site: Site
) -> None:
    edit_config(config_file, "[agent]\n", '[agent]\nshutdown_grace = "2s"\n')
    for slug in ("parks", "library", "police"):
        site.admin.patch_account(slug, delay_ms=4000)
    daemon.start()
    wait_for(lambda: any(r.status == "running" for r in runs(config_file)), 60, "a capture in progress")
    started = time.monotonic()
    daemon.send(signal.SIGTERM)
    assert daemon.wait_exit(60) == 0
    assert time.monotonic() - started < 30
    assert {r.status for r in runs(config_file)} <= {"ok", "failed", "interrupted"}
    assert any(r.status == "interrupted" for r in runs(config_file))


def test_kill_9_mid_capture_is_repaired_on_the_next_start(daemon: DaemonProcess, config_file: Path, site: Site) -> None:
    site.admin.patch_account("library", delay_ms=3000)
    daemon.start()
    victim = wait_for(lambda: next((r for r in runs(config_file) if r.status == "running"), None), 60, "a running capture")
    daemon.send(signal.SIGKILL)
    daemon.wait_exit(10)
    data_dir = load_settings(config_file).agent.data_dir
    (data_dir / "blobs" / "tmp" / ".tmp-0123456789abcdef-deadbeef").write_bytes(b"half a screenshot")
    site.admin.patch_account("library", delay_ms=0)
    daemon.start()
    rerun = wait_for(lambda: [r for r in runs(config_file) if r.account_id == victim.account_id and r.status == "ok"
                              and r.started_at > victim.started_at], 120, "the interrupted account to run again")
    assert rerun
    after = {r.id: r for r in runs(config_file)}
    assert after[victim.id].status == "interrupted" and "stopped during this run" in (after[victim.id].error or "")
    assert list((data_dir / "blobs" / "tmp").iterdir()) == []
    db = Database(load_settings(config_file).agent.sqlalchemy_url())
    with db.session() as s:
        shas = {a.sha256 for a in s.exec(select(Artifact)).all()}
    db.dispose()
    assert shas and all((data_dir / "blobs" / sha[:2] / sha[2:4] / sha).exists() for sha in shas)


def test_a_second_daemon_on_the_same_data_dir_is_refused_naming_the_first(
    daemon: DaemonProcess, config_file: Path
) -> None:
    daemon.start()
    assert daemon.proc is not None
    second = subprocess.run([sys.executable, "-m", "agent", "--config", str(config_file), "run"],
                            capture_output=True, text=True, timeout=60, check=False)
    data_dir = load_settings(config_file).agent.data_dir
    assert second.returncode == 1
    assert (f"another civicwatch daemon (pid {daemon.proc.pid}) is already running on {data_dir}; "
            "stop it first") in second.stderr
    assert daemon.proc.poll() is None and daemon.health()["status"] in ("ok", "degraded")


def test_a_daemon_starting_while_check_captures_leaves_that_run_alone(
    daemon: DaemonProcess, config_file: Path, site: Site
) -> None:
    site.admin.patch_account("library", delay_ms=2000)
    check = subprocess.Popen([sys.executable, "-m", "agent", "--config", str(config_file), "check", "library",
                              "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        def running() -> Run | None:
            try:
                return next((r for r in runs(config_file) if r.status == "running"), None)
            except StorageError:  # the check has not created the database yet
                return None

        manual = wait_for(running, 60, "the manual capture to start")
        daemon.start()
        out, _ = check.communicate(timeout=120)
    finally:
        check.kill()
    assert check.returncode == 0, out
    assert json.loads(out)["run_id"] == manual.id
    after = {r.id: r for r in runs(config_file)}
    assert after[manual.id].status == "ok"  # not marked interrupted by the daemon's start
    assert "left alone: 1 run(s) another civicwatch process is doing now" in daemon.log.read_text()
