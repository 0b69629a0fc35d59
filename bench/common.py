"""What the benchmarks share: a free port, a civicwatch.toml for the sandbox's bench accounts,
and where results are written."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(work: Path, base: str, accounts: int, posts: int, concurrency: int, variant: str = "",
                 schedule: str | None = None, web_port: int | None = None, executable: str | None = None) -> Path:
    """A config for the bench accounts; ``variant`` turns one lever off: "compact", "nowarc" or
    "open" (no [browser] allowed_hosts, so no request interception); ``executable`` is the
    Chromium to run (else the one civicwatch finds)."""
    encoding = "compact" if variant == "compact" else "fast"
    allowed = "" if variant == "open" else 'allowed_hosts = ["127.0.0.1"]\n'
    secrets = work / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    lines = [f'[agent]\ndata_dir = "{work / "var"}"\nconcurrency = {concurrency}\n',
             f'[browser]\n{allowed}screenshot_encoding = "{encoding}"\n'
             + (f'executable_path = "{executable}"\n' if executable else ""),
             '[links]\nallow_private = ["127.0.0.0/8"]\n',
             f'[evidence]\nwarc = {"false" if variant == "nowarc" else "true"}\n']
    if web_port is not None:
        lines.append(f'[web]\nlisten = "127.0.0.1:{web_port}"\n')
    every = f'schedule = "{schedule}"\n' if schedule else ""
    for i in range(accounts):
        slug = f"bench{i:03d}"
        (secrets / slug).write_text(f"{slug}-pass")
        lines.append(f'[[accounts]]\nid = "{slug}"\nname = "Springfield Department {i:03d}"\nplatform = "sandbox"\n'
                     f'url = "{base}/p/{slug}"\nmax_posts = {posts}\n{every}authorized_authors = ["Bench Staff"]\n'
                     f'[accounts.credentials]\nusername = "{slug}@springfield.example"\n'
                     f'password = "file:{secrets / slug}"\n')
    config = work / "civicwatch.toml"
    config.write_text("\n".join(lines))
    return config


def write_results(kind: str, results: dict[str, Any]) -> Path:
    """Save a benchmark's results as bench/results/KIND-<UTC time>.json and say where."""
    out = RESULTS / f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return out
