"""Link-check benchmark: civicwatch, LinkChecker and linkinator on the same link farm, in one run.

    bench/setup                      # once: LinkChecker, linkinator, uvicorn[standard] for the farm
    .venv/bin/python bench/links.py  # defaults: 20 hosts x 98 links + a rate-limited host = 2,000 links
    .venv/bin/python bench/links.py --limited-links 0   # the same without the rate-limited host

The farm (sandbox/linkfarm.py) is served by uvicorn in two processes, on 21 loopback
addresses (127.0.0.1-127.0.0.21), so per-host limits act as on real links; the last
address answers 429 with Retry-After: 1 beyond 20 requests a second. Each tool gets a
freshly started farm (the "flaky" links fail only on their first request). Reports links
per second, a confusion matrix against the farm's ground truth, and per kind what each
tool said. Writes bench/results/links-<time>.json. Run on demand, never in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, write_results
from sandbox.linkfarm import EXPECTED, LinkFarm

BENCH_VENV = ROOT / "bench" / ".venv"
LINKINATOR = ROOT / "bench" / "tools" / "node_modules" / ".bin" / "linkinator"
#: links of each kind on each ordinary host (98 per host)
MIX = {"ok": 50, "doc": 5, "redirect": 8, "chain": 4, "nohead": 4, "headlie": 2, "slow": 2, "flaky": 2,
       "missing": 6, "gone": 3, "error": 3, "loop": 3, "soft404": 3, "nowhere": 3}
LIMITED_LINKS = 40


# -- the farm --------------------------------------------------------------------------


def serve_farm(addresses: list[str], port: int, ports_file: Path, index_file: Path, limited: str) -> None:
    """(In a farm process.) Serve the farm on the given addresses; write host:port lines when up."""
    import uvicorn

    farm = LinkFarm(slow_s=1.0, limit_per_s=20, limited_hosts=frozenset({limited}),
                    index=index_file.read_bytes() if index_file.exists() else b"")
    sockets = []
    for address in addresses:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sockets.append(sock)
    config = uvicorn.Config(farm, log_level="error", access_log=False, lifespan="off", backlog=4096)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=sockets))
        while not server.started:
            await asyncio.sleep(0.05)
        ports_file.write_text("".join(f"{s.getsockname()[0]}:{s.getsockname()[1]}\n" for s in sockets))
        await task

    asyncio.run(main())


@contextmanager
def farm_processes(hosts: int, port: int, work: Path, index: Path) -> Iterator[None]:
    """Start the farm in two processes, on 127.0.0.1..127.0.0.(hosts+1), all on ``port``."""
    addresses = [f"127.0.0.{i}" for i in range(1, hosts + 2)]
    limited = addresses[-1]
    halves = [addresses[0::2], addresses[1::2]]
    python = BENCH_VENV / "bin" / "python"
    procs, files = [], []
    for n, part in enumerate(halves):
        ports = work / f"ports-{n}.txt"
        ports.unlink(missing_ok=True)
        files.append(ports)
        procs.append(subprocess.Popen(
            [str(python if python.exists() else sys.executable), __file__, "--serve-farm", ",".join(part),
             "--port", str(port), "--ports-file", str(ports), "--index-file", str(index), "--limited", limited],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ))
    try:
        deadline = time.monotonic() + 30
        while not all(f.exists() and f.read_text().count("\n") == len(h) for f, h in zip(files, halves)):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("the link farm did not start")
            time.sleep(0.05)
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def farm_links(port: int, hosts: int, limited_links: int = LIMITED_LINKS) -> dict[str, str]:
    """url -> kind, deterministic for a given port."""
    links: dict[str, str] = {}
    for i in range(1, hosts + 1):
        base = f"http://127.0.0.{i}:{port}"
        for kind, count in MIX.items():
            for n in range(count):
                suffix = ".pdf" if kind == "doc" else ""
                links[f"{base}/{kind}/{i}-{n}{suffix}"] = kind
    limited = f"127.0.0.{hosts + 1}"
    for n in range(limited_links):
        links[f"http://{limited}:{port}/ok/limited-{n}"] = "ok"
    return links


def index_page(urls: list[str]) -> bytes:
    items = "".join(f'<li><a href="{u}">{u}</a></li>' for u in urls)
    return f"<!doctype html><html><head><title>Links</title></head><body><ul>{items}</ul></body></html>".encode()


# -- the tools -------------------------------------------------------------------------


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run a command; its stdout, wall seconds, CPU seconds (children included)."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=1800)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout, wall, cpu


def run_civicwatch(
    links: dict[str, str], work: Path, variant: str = ""
) -> tuple[dict[str, tuple[bool, str]], float, float]:
    """``variant``: extra ``[links]`` settings, ``key=value`` joined by ``+`` (``per_host=6``)."""
    extra = "".join(f"{item}\n" for item in variant.split("+") if item)
    cfg = work / "civicwatch.toml"
    cfg.write_text(f'[agent]\ndata_dir = "var"\n[links]\nallow_private = ["127.0.0.0/8"]\n{extra}')
    out, wall, cpu = measure([str(ROOT / ".venv" / "bin" / "civicwatch"), "--config", str(cfg), "links", "check",
                              "--json", *links], cwd=work)
    verdicts = {}
    for line in out.splitlines():
        row = json.loads(line)
        verdicts[row["url"]] = (row["status"] == "broken", row["error_class"] or "ok")
    return verdicts, wall, cpu


def run_linkinator(index_url: str) -> tuple[dict[str, tuple[bool, str]], float, float]:
    out, wall, cpu = measure([str(LINKINATOR), index_url, "--format", "json"])
    data = json.loads(out)
    verdicts = {}
    for link in data["links"]:
        verdicts[link["url"]] = (link["state"] == "BROKEN", f"{link['state']} {link.get('status')}")
    return verdicts, wall, cpu


def run_linkchecker(index_url: str, work: Path) -> tuple[dict[str, tuple[bool, str]], float, float]:
    rc = work / "linkcheckerrc"
    rc.write_text("[checking]\nmaxrequestspersecond=1000\nthreads=10\ntimeout=15\n[output]\nstatus=0\n")
    rc.chmod(0o644)
    work.chmod(0o755)
    out, wall, cpu = measure([str(BENCH_VENV / "bin" / "linkchecker"), "--config", str(rc), "--check-extern",
                              "-r", "1", "-o", "csv", "--verbose", "--no-status", index_url])
    verdicts = {}
    rows = [line for line in out.splitlines() if not line.startswith("#")]
    for row in csv.DictReader(io.StringIO("\n".join(rows)), delimiter=";"):
        url = row.get("urlname") or ""
        verdicts[url] = (row.get("valid") == "False", (row.get("result") or "")[:60])
    return verdicts, wall, cpu


# -- scoring ---------------------------------------------------------------------------


def score(links: dict[str, str], verdicts: dict[str, tuple[bool, str]], names_classes: bool) -> dict[str, object]:
    matrix = Counter()
    per_kind: dict[str, Counter[str]] = {}
    for url, kind in links.items():
        truth_broken = EXPECTED[kind] != "ok"
        said = verdicts.get(url)
        if said is None:
            matrix["not reported"] += 1
            per_kind.setdefault(kind, Counter())["not reported"] += 1
            continue
        broken, label = said
        cell = ("true broken" if broken else "missed broken") if truth_broken else (
            "false broken" if broken else "true ok")
        matrix[cell] += 1
        per_kind.setdefault(kind, Counter())[label if names_classes or broken != truth_broken else cell] += 1
    result: dict[str, object] = {"confusion": dict(matrix), "per_kind": {k: dict(v) for k, v in per_kind.items()}}
    if names_classes:
        named = sum(1 for u, k in links.items() if verdicts.get(u, (False, ""))[1] == EXPECTED[k])
        result["named_right"] = named
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--tools", default="civicwatch,linkchecker,linkinator",
                        help="comma-separated; civicwatch:per_host=6+concurrency=100 runs civicwatch with those "
                             "[links] settings")
    parser.add_argument("--limited-links", type=int, default=LIMITED_LINKS,
                        help="links on the host answering 429 (0: compare without it)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, tools alternating; medians reported")
    parser.add_argument("--serve-farm", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ports-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--limited", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_farm:
        serve_farm(args.serve_farm.split(","), args.port, args.ports_file, args.index_file, args.limited)
        return

    results: dict[str, object] = {"machine": f"{os.cpu_count()} cores", "hosts": args.hosts + 1,
                                  "when": datetime.now(UTC).isoformat(), "command": " ".join(sys.argv)}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        index = work / "links.html"
        port = free_port()
        links = farm_links(port, args.hosts, args.limited_links)
        index.write_bytes(index_page(list(links)))
        index_url = f"http://127.0.0.1:{port}/links.html"
        runs: dict[str, list[dict[str, object]]] = {t: [] for t in args.tools.split(",")}
        for round_no in range(args.rounds):
            for tool in runs:
                with farm_processes(args.hosts, port, work, index):  # a fresh farm per tool and round
                    if tool.partition(":")[0] == "civicwatch":
                        verdicts, wall, cpu = run_civicwatch(links, work, tool.partition(":")[2])
                    elif tool == "linkinator":
                        verdicts, wall, cpu = run_linkinator(index_url)
                    else:
                        verdicts, wall, cpu = run_linkchecker(index_url, work)
                scored = score(links, verdicts, names_classes=tool.startswith("civicwatch"))
                runs[tool].append({"seconds": round(wall, 2), "cpu_s": round(cpu, 2), **scored})
                print(f"round {round_no + 1} {tool:<12} {len(links)} links in {wall:6.2f} s = "
                      f"{len(links) / wall:7.1f} links/s, cpu {cpu:5.1f} s; {scored['confusion']}", flush=True)
        for tool, rounds in runs.items():
            wall = statistics.median(float(r["seconds"]) for r in rounds)  # type: ignore[arg-type]
            results[tool] = {"links": len(links), "median_seconds": wall, "links_per_s": round(len(links) / wall, 1),
                             "median_cpu_s": statistics.median(float(r["cpu_s"]) for r in rounds),  # type: ignore[arg-type]
                             "rounds": rounds}
            print(f"median {tool:<12} {len(links) / wall:7.1f} links/s ({wall:.2f} s)")
    write_results("links", results)


if __name__ == "__main__":
    main()
