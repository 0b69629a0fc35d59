"""The daemon idle between runs: its memory, and whether any Chromium is left running.

    .venv/bin/python bench/idle.py --accounts 10

Starts `civicwatch run` with ACCOUNTS sandbox accounts scheduled every 6 hours (so each
runs once, at start-up, then waits), waits until every account has run and
`[browser] idle_close_after` has passed, then samples for a minute: the daemon's RSS and
PSS, and the number of Chromium processes. Writes bench/results/idle-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.capture import start_sandbox
from bench.common import free_port, write_config, write_results
from bench.soak import memory_kb, sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60, help="how long to sample once idle")
    args = parser.parse_args()
    sandbox, base = start_sandbox(args.accounts, args.posts)
    try:
        with tempfile.TemporaryDirectory(prefix="civicwatch-idle-") as scratch:
            work = Path(scratch)
            config = write_config(work, base, args.accounts, args.posts, 2, schedule="every 6h", web_port=free_port())
            daemon = subprocess.Popen([str(ROOT / ".venv" / "bin" / "civicwatch"), "--config", str(config), "run"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
            try:
                db = work / "var" / "civicwatch.db"
                deadline = time.time() + 900
                while time.time() < deadline:
                    done = 0
                    if db.exists():
                        done = sqlite3.connect(db).execute(
                            "SELECT COUNT(DISTINCT account_id) FROM run WHERE status != 'running'").fetchone()[0]
                    if done >= args.accounts:
                        break
                    time.sleep(2)
                peak_busy = memory_kb(daemon.pid, "RSS") / 1024
                time.sleep(45)  # idle_close_after (30 s) plus margin
                samples = []
                end = time.time() + args.seconds
                while time.time() < end:
                    samples.append(sample(daemon.pid))
                    time.sleep(5)
            finally:
                daemon.terminate()
                daemon.wait(60)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    result = {
        "when": datetime.now(UTC).isoformat(), "command": " ".join(sys.argv), "accounts": args.accounts,
        "rss_after_runs_mb": round(peak_busy),
        "idle_daemon_rss_mb": round(statistics.median(s["daemon_rss_mb"] for s in samples)),
        "idle_tree_pss_mb": round(statistics.median(s["pss_mb"] for s in samples)),
        "idle_chromium_processes": max(s["chromium_processes"] for s in samples),
    }
    print(json.dumps(result, indent=2))
    write_results("idle", result)


if __name__ == "__main__":
    main()
