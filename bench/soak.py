"""Soak test: the daemon against the sandbox, many accounts on short intervals, for a while.

    .venv/bin/python bench/soak.py --accounts 20 --minutes 15

Samples, every 15 s: the process tree's RSS and PSS (Chromium included), the daemon's open
file descriptors, the number of Chromium processes; and at the end the schedule lag (how
late each run started against its schedule). A healthy daemon is flat after warm-up.
Writes bench/results/soak-<time>.json and prints a summary. Run on demand, not in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_config, write_results  # noqa: E402
from sandbox.app import create_app  # noqa: E402
from sandbox.seed import bench_accounts  # noqa: E402
from sandbox.server import ThreadedServer  # noqa: E402
from sandbox.state import SandboxState  # noqa: E402


def parents() -> dict[int, int]:
    """Every process's parent, from one scan of /proc."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                out[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    return out


def tree(pid: int, prune: set[int] | frozenset[int] = frozenset(), parent_of: dict[int, int] | None = None) -> list[int]:
    """pid and all its descendants, leaving out the subtrees rooted at ``prune``."""
    children: dict[int, list[int]] = {}
    for child, parent in (parent_of if parent_of is not None else parents()).items():
        children.setdefault(parent, []).append(child)
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(c for c in children.get(current, []) if c not in prune)
    return out


def memory_kb(pid: int, field: str) -> int:
    path = "smaps_rollup" if field == "Pss" else "status"
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field + ":") or line.startswith("Vm" + field + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


#: Chromium's process types, by their --type (and the network service's sub-type)
_CHROMIUM_TYPES = {"renderer": "renderer", "gpu-process": "GPU", "zygote": "zygote", "utility": "utility"}


def process_kind(argv: list[str]) -> str:
    """What a process of a benchmark's tree is, from its command line; pure."""
    if not argv:
        return "other"
    flags = {a.partition("=")[0]: a.partition("=")[2] for a in argv[1:] if a.startswith("--")}
    program = Path(argv[0]).name
    if "crashpad" in program:
        return "other"
    if "chrom" in program or "headless_shell" in program:
        if flags.get("--utility-sub-type") == "network.mojom.NetworkService":
            return "network"
        return _CHROMIUM_TYPES.get(flags.get("--type", ""), "browser" if "--type" not in flags else "other")
    if program == "node":
        return "driver"
    if program.startswith("python") or program in ("civicwatch", "shot-scraper"):
        return "python"
    return "other"


def cpu_seconds(pid: int) -> tuple[str | None, float] | None:
    """(kind, CPU seconds so far) of a process; kind None when its command line is gone (it is
    exiting); None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return None
    argv = [a for a in argv if a]
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    if not argv:
        return None, cpu
    if len(argv) == 1:  # Chromium's helpers rewrite their command line as one string
        argv = argv[0].split(" ")
    return process_kind(argv), cpu


def sample(pid: int) -> dict[str, float]:
    pids = tree(pid)
    chromium = [p for p in pids if b"chrom" in _cmd(p)]
    return {
        "t": time.time(),
        "rss_mb": sum(memory_kb(p, "RSS") for p in pids) / 1024,
        "pss_mb": sum(memory_kb(p, "Pss") for p in pids) / 1024,
        "daemon_rss_mb": memory_kb(pid, "RSS") / 1024,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "chromium_processes": len(chromium),
    }


def _cmd(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return b""


def schedule_lag(db_path: Path) -> list[float]:
    """Seconds between consecutive runs of an account beyond its 60 s interval."""
    import sqlite3

    rows = sqlite3.connect(db_path).execute(
        "SELECT account_id, started_at FROM run WHERE status != 'running' ORDER BY account_id, started_at").fetchall()
    lags, previous = [], {}
    for account, started in rows:
        at = datetime.fromisoformat(started).timestamp()
        if account in previous:
            lags.append(max(0.0, at - previous[account] - 60))
        previous[account] = at
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--every", type=float, default=15, help="seconds between samples")
    args = parser.parse_args()

    state = SandboxState()
    state.replace(*bench_accounts(args.accounts, args.posts, comments=2))
    with ThreadedServer(create_app(state)) as sandbox, tempfile.TemporaryDirectory(prefix="civicwatch-soak-") as tmp:
        work = Path(tmp)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = write_config(work, sandbox.base_url, args.accounts, args.posts, args.concurrency,
                              schedule="every 1m", web_port=port)
        log = (work / "daemon.log").open("wb")
        daemon = subprocess.Popen([sys.executable, "-m", "agent", "--config", str(config), "run"],
                                  stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        samples = []
        deadline = time.time() + args.minutes * 60
        try:
            while time.time() < deadline and daemon.poll() is None:
                samples.append(sample(daemon.pid))
                s = samples[-1]
                print(f"{len(samples) * args.every:>6.0f}s  tree RSS {s['rss_mb']:7.1f} MB  PSS {s['pss_mb']:7.1f} MB  "
                      f"daemon RSS {s['daemon_rss_mb']:6.1f} MB  fds {s['fds']:4d}  chromium {s['chromium_processes']:3d}",
                      flush=True)
                time.sleep(args.every)
        finally:
            daemon.terminate()
            daemon.wait(120)
        lags = schedule_lag(work / "var" / "civicwatch.db")
        import sqlite3

        statuses = dict(sqlite3.connect(work / "var" / "civicwatch.db").execute(
            "SELECT status, count(*) FROM run GROUP BY status").fetchall())
    warm = samples[len(samples) // 3:] or samples
    result = {
        "when": datetime.now(UTC).isoformat(),
        "machine": f"{os.cpu_count()} CPU, {os.uname().sysname} {os.uname().release}",
        "accounts": args.accounts, "minutes": args.minutes, "concurrency": args.concurrency,
        "runs": statuses,
        "after_warm_up": {
            key: {"min": round(min(s[key] for s in warm), 1), "max": round(max(s[key] for s in warm), 1)}
            for key in ("rss_mb", "pss_mb", "daemon_rss_mb", "fds", "chromium_processes")
        },
        "schedule_lag_seconds": {
            "p50": round(statistics.median(lags), 1) if lags else None,
            "p95": round(statistics.quantiles(lags, n=20)[18], 1) if len(lags) >= 20 else None,
            "max": round(max(lags), 1) if lags else None,
        },
        "samples": samples,
    }
    write_results("soak", result)
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))


if __name__ == "__main__":
    main()
