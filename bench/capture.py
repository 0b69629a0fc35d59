"""Capture benchmark: civicwatch's full evidence pipeline against screenshot-only tools, side by side.

    bench/setup                           # once: shot-scraper (and the link-check tools)
    .venv/bin/python bench/capture.py     # 50 accounts x 40 posts, concurrency 2, 3 rounds

In one invocation, in alternation, on the same sandbox pages (served by a separate
`civicwatch sandbox serve --seed bench` process):

(a) civicwatch    `civicwatch check --all` in steady state (sessions saved, a capture
                  already stored, as the daemon runs every hour): scrolling, owner
                  screenshot and DOM, settings page, visitor view, avatar, WARC, hashing,
                  signing, DB, detection, link checks; `civicwatch:first` = a fresh install
(b) bare          one Chromium, one reused page per worker, full-page PNG only (the floor);
                  `bare:fast` takes them with civicwatch's own screenshot call (Chromium's
                  speed-optimised PNG encoder), the fastest floor; `bare:jpeg` the same
                  call asking for JPEG at quality 90 (lossy: what a lossy format could buy)
(c) shot-scraper  `shot-scraper multi`, one process per worker, full-page PNG only

Every tool runs the same Chromium: the one `civicwatch browser path` names, or `--chromium`.

Reports pages/s, CPU seconds per page (the whole process tree) and peak PSS of the whole
process tree (Chromium included), medians over the rounds, and each tool's ratio to (a);
where the CPU went by kind of process (Python, Playwright's driver, Chromium's browser,
renderer, GPU and network processes); and for civicwatch, where each run's wall time went
by phase (its `check --json` phases).
Also: the bytes a first capture, an unchanged recapture and a recapture after one edited
post add to the archive; and full-text search latency at 100k and 1M posts (`--search`).
Writes bench/results/capture-<time>.json. Run on demand, never in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, write_config, write_results  # noqa: E402
from bench.soak import cpu_seconds, memory_kb, parents, tree  # noqa: E402

VENV = ROOT / ".venv" / "bin"
BENCH_VENV = ROOT / "bench" / ".venv" / "bin"


# -- measuring a process tree ------------------------------------------------------------


#: processes of ours that outlive a measurement (the sandbox server), left out of it
LONG_LIVED: set[int] = set()
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphaned descendants (Chromium's helpers outlive their parents) re-parent to this process,
    so they stay in the measured tree and their CPU is counted when they are reaped here."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def measured_tree(parent_of: dict[int, int] | None = None) -> list[int]:
    """Every descendant of this process except the long-lived ones (one scan of /proc)."""
    return tree(os.getpid(), prune=LONG_LIVED, parent_of=parent_of)[1:]


def reap_orphans(deadline_s: float = 30) -> None:
    """Wait for re-parented descendants to exit (their CPU joins os.times() once reaped)."""
    deadline = time.monotonic() + deadline_s
    me = os.getpid()
    while time.monotonic() < deadline:
        parent_of = parents()
        orphans = [pid for pid in measured_tree(parent_of) if parent_of.get(pid) == me]
        if not orphans:
            return
        for pid in orphans:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                continue


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
            keep_stdout: bool = False) -> dict[str, Any]:
    """Run a command; wall seconds, CPU seconds of its whole tree, peak PSS (MB) of the tree, and
    the tree's CPU seconds by kind of process (sampled, so a process living under 100 ms is missed).

    The tree includes processes that were orphaned on the way (this process is a subreaper):
    without that, Chromium's renderers and GPU process escape the count (measured: the tree
    CPU seemed 2.5 s per page while the machine was 93 % busy, 6.1 CPU-s per page).
    """
    reap_orphans()  # a previous, unmeasured command's leftovers must not count here
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    last_cpu: dict[int, tuple[str, float]] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            pids = measured_tree()
            peak = max(peak, sum(memory_kb(p, "Pss") for p in pids))
            for pid in pids:
                if (seen := cpu_seconds(pid)) is not None:
                    kind, used = seen  # an exiting process (no command line left) keeps the kind it had
                    last_cpu[pid] = (kind or last_cpu.get(pid, ("other", 0.0))[0], used)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    reap_orphans()
    after = os.times()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err.decode()[-3000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    by_kind: dict[str, float] = {}
    for kind, seconds in last_cpu.values():
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    return {"seconds": wall, "cpu_s": cpu, "peak_pss_mb": peak / 1024,
            "cpu_by_process": {kind: round(seconds, 2) for kind, seconds in by_kind.items()},
            "stdout": out.decode() if keep_stdout else out.decode()[-2000:]}


def cpu_by_process(rounds: list[dict[str, Any]], pages: int) -> dict[str, float]:
    """Median CPU seconds per page of each kind of process over the rounds, largest first; pure."""
    kinds = {k for m in rounds for k in m["cpu_by_process"]}
    per_page = {k: statistics.median(m["cpu_by_process"].get(k, 0.0) for m in rounds) / pages for k in kinds}
    return {k: round(v, 3) for k, v in sorted(per_page.items(), key=lambda kv: -kv[1])}


def median_phases(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Median over the rounds of civicwatch's mean seconds per account in each phase; pure."""
    phases = list(dict.fromkeys(k for m in rounds for k in m["phases"]))
    return {k: round(statistics.median(m["phases"].get(k, 0.0) for m in rounds), 3) for k in phases}


# -- the workload ------------------------------------------------------------------------


def start_sandbox(accounts: int, posts: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([str(VENV / "civicwatch"), "sandbox", "serve", "--seed", "bench", "--accounts",
                             str(accounts), "--posts", str(posts), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    LONG_LIVED.add(proc.pid)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/p/bench000", timeout=2).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the sandbox did not start")


def chromium_path() -> str:
    out = subprocess.run([str(VENV / "civicwatch"), "browser", "path"], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def shot_scraper_browsers(work: Path, executable: str) -> Path:
    """A PLAYWRIGHT_BROWSERS_PATH in which shot-scraper's Playwright finds the same Chromium."""
    import importlib.metadata

    browsers = work / "pw-browsers"
    version = importlib.metadata.version("playwright")
    listing = subprocess.run([str(BENCH_VENV / "playwright"), "install", "--dry-run", "chromium"],
                             capture_output=True, text=True, env={**os.environ, "PLAYWRIGHT_BROWSERS_PATH": str(browsers)})
    location: Path | None = None
    executables = {"chrome-linux64.zip": "chrome-linux64/chrome",
                   "chrome-headless-shell-linux64.zip": "chrome-headless-shell-linux64/chrome-headless-shell"}
    for line in listing.stdout.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Install location":
            location = Path(value.strip())
        elif key == "Download url" and location is not None:
            name = executables.get(value.strip().rsplit("/", 1)[-1])
            if name:
                target = location / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    target.symlink_to(executable)
                for marker in ("INSTALLATION_COMPLETE", "DEPENDENCIES_VALIDATED"):
                    (location / marker).touch()
            location = None
    browsers.mkdir(parents=True, exist_ok=True)
    if not any(browsers.iterdir()):
        raise RuntimeError(f"could not lay out browsers for shot-scraper's Playwright {version}")
    return browsers


# -- (b) the bare loop -------------------------------------------------------------------


#: how the bare loop takes its screenshots (see bare_loop)
Shot = Literal["playwright", "fast", "jpeg"]


async def bare_loop(urls: list[str], concurrency: int, out: Path, executable: str, browsers: int = 1,
                    shot: Shot = "playwright") -> None:
    """The floor: full-page screenshots only, one reused page per worker, `browsers` Chromiums shared by the
    workers; ``shot`` "playwright" takes PNGs with Playwright's ``page.screenshot``, "fast" with
    civicwatch's own call (Chromium's speed-optimised PNG encoder), "jpeg" with that call in JPEG."""
    from playwright.async_api import Page, async_playwright

    from agent.browser import launch_args
    from flows.capture import full_page_png

    async def jpeg(page: Page) -> bytes:
        session = await page.context.new_cdp_session(page)
        metrics = await session.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        result = await session.send("Page.captureScreenshot", {
            "format": "jpeg", "quality": 90, "optimizeForSpeed": True, "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        await session.detach()
        return base64.b64decode(result["data"])

    queue = list(enumerate(urls))
    async with async_playwright() as pw:
        launched = [await pw.chromium.launch(executable_path=executable, args=launch_args([], os.geteuid() == 0))
                    for _ in range(browsers)]

        async def worker(index: int) -> None:
            page = await launched[index % browsers].new_page(viewport={"width": 1280, "height": 900})
            while queue:
                n, url = queue.pop(0)
                await page.goto(url, wait_until="load")
                if shot == "fast":
                    image = (await full_page_png(page, 120_000)).png
                elif shot == "jpeg":
                    image = await jpeg(page)
                else:
                    image = await page.screenshot(full_page=True, type="png")
                (out / f"{n}.{'jpg' if shot == 'jpeg' else 'png'}").write_bytes(image)
            await page.close()

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        for browser in launched:
            await browser.close()


# -- the rounds --------------------------------------------------------------------------


def run_civicwatch(base: str, accounts: int, posts: int, concurrency: int, work: Path,
                   variant: str = "", executable: str | None = None) -> dict[str, Any]:
    """One `check --all`. Steady state by default: the archive already holds a capture and the
    sessions are saved (the daemon's hourly work); variant "first" measures a fresh install."""
    first = variant == "first"
    if first or not (work / "civicwatch.toml").exists():
        shutil.rmtree(work, ignore_errors=True)
        write_config(work, base, accounts, posts, concurrency, variant, executable=executable)
        if not first:  # warm up: sign in and store a first capture, unmeasured
            subprocess.run([str(VENV / "civicwatch"), "--config", str(work / "civicwatch.toml"), "check", "--all"],
                           capture_output=True, cwd=work, check=False)
    m = measure([str(VENV / "civicwatch"), "--config", str(work / "civicwatch.toml"), "check", "--all", "--json"],
                cwd=work, keep_stdout=True)
    m["phases"] = phase_seconds(m.pop("stdout"))
    return m


def phase_seconds(jsonl: str) -> dict[str, float]:
    """Mean wall seconds per account of each phase of civicwatch's runs (`check --json`); pure."""
    runs = [json.loads(line) for line in jsonl.splitlines() if line.startswith("{")]
    totals: dict[str, float] = {}
    for run in runs:
        for phase, seconds in run.get("phases", {}).items():
            totals[phase] = totals.get(phase, 0.0) + seconds
    return {phase: round(total / len(runs), 3) for phase, total in totals.items()}


def run_bare(urls: list[str], concurrency: int, work: Path, executable: str, browsers: int = 1,
             shot: Shot = "playwright") -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "urls.txt").write_text("\n".join(urls))
    return measure([str(VENV / "python"), __file__, "--bare", str(work / "urls.txt"), "--concurrency",
                    str(concurrency), "--out", str(work), "--executable", executable, "--browsers", str(browsers)]
                   + ["--shot", shot])


def run_shot_scraper(urls: list[str], concurrency: int, work: Path, browsers: Path) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    parts = [urls[i::concurrency] for i in range(concurrency)]
    cmds = []
    for i, part in enumerate(parts):
        yml = work / f"shots-{i}.yml"
        yml.write_text("".join(f"- url: {u}\n  output: {work / f'{i}-{n}.png'}\n" for n, u in enumerate(part)))
        cmds.append(f"{BENCH_VENV / 'shot-scraper'} multi {yml} --silent --browser-arg=--no-sandbox "
                    f"--browser-arg=--disable-gpu --browser-arg=--disable-dev-shm-usage")
    script = " & ".join(cmds) + " & wait"
    return measure(["sh", "-c", script], env={**os.environ, "PLAYWRIGHT_BROWSERS_PATH": str(browsers)})


def storage_growth(base: str, accounts: int, posts: int, work: Path) -> dict[str, int]:
    """Bytes the archive grows by: first capture, unchanged recapture, recapture after one edit."""
    from sandbox.client import SandboxAdmin

    shutil.rmtree(work, ignore_errors=True)
    config = write_config(work, base, accounts, posts, 2)
    data = work / "var"

    def size() -> int:
        return sum(p.stat().st_size for p in data.rglob("*") if p.is_file() and "work" not in p.parts)

    def check() -> None:
        subprocess.run([str(VENV / "civicwatch"), "--config", str(config), "check", "--all"], check=False,
                       capture_output=True, cwd=work)

    check()
    first = size()
    check()
    unchanged = size() - first
    admin = SandboxAdmin(base)
    post_id = admin.account("bench000")["posts"][0]["id"]
    admin.edit_post("bench000", post_id, text="Edited for the storage benchmark.")
    before = size()
    check()
    edited = size() - before
    return {"accounts": accounts, "first_capture_bytes": first, "unchanged_recapture_bytes": unchanged,
            "one_post_edited_recapture_bytes": edited,
            "unchanged_ratio": round(unchanged / first, 4) if first else 0}


def search_latency(sizes: list[int], work: Path) -> dict[str, dict[str, dict[str, float]]]:
    """p50/p95 of full-text queries over N stored posts (SQLite FTS5, as installed by default)."""
    import random

    from sqlalchemy import text

    from storage.db import Database
    from storage.search import Query, search

    # A city archive's vocabulary: a few thousand words with Zipf frequencies (common words in
    # most posts, most words rare). Queries are two words taken from a random stored post.
    city = ["leaf", "pickup", "permit", "council", "agenda", "library", "budget", "parade", "closure",
            "snow", "recycling", "vaccine", "volunteer", "garden", "playground", "meeting", "hours", "tax"]
    vocabulary = city + [f"w{n:04d}" for n in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    rng = random.Random(7)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for size in sizes:
        path = work / f"search-{size}.db"
        db = Database(f"sqlite:///{path}")
        db.create_schema()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO run (id, account_id, platform, status, started_at, requested_url, "
                              "tool_version, playwright_version, host, session_reused, feed_complete, posts_seen, "
                              "posts_new) VALUES ('r', 'a', 'sandbox', 'ok', '2026-11-01 00:00:00', '', '', '', '', "
                              "0, 0, 0, 0)"))
            batch = []
            samples: list[list[str]] = []
            for i in range(size):
                chosen = rng.choices(vocabulary, weights, k=30)
                if i % (size // 200) == 0:
                    samples.append(chosen)
                body = " ".join(chosen)
                batch.append({"a": f"acct{i % 200:03d}", "p": f"p{i}", "t": f"Update {i}: {body}"})
                if len(batch) == 20000 or i == size - 1:
                    conn.execute(text(
                        "INSERT INTO post (account_id, platform_id, author, text, links, content_hash, "
                        "version_count, first_seen_run, last_seen_run, first_seen_at, last_seen_at, visitor) "
                        "VALUES (:a, :p, 'City', :t, '[]', 'h', 1, 'r', 'r', '2026-11-01 00:00:00', "
                        "'2026-11-01 00:00:00', 0)"), batch)
                    batch = []
        # The same 200 queries as clerks type them (whole words, matched by stem) and with
        # every word a prefix (``word*``, how every query ran before migration 0009).
        queries = [rng.sample(rng.choice(samples), 2) for _ in range(200)]
        out[str(size)] = {}
        for form, suffix in (("words", ""), ("prefixes", "*")):
            latencies = []
            for words in queries:
                q = Query(words=" ".join(w + suffix for w in words), limit=50)
                start = time.perf_counter()
                search(db, q)
                latencies.append((time.perf_counter() - start) * 1000)
            latencies.sort()
            row = {"p50_ms": round(latencies[len(latencies) // 2], 2),
                   "p95_ms": round(latencies[int(len(latencies) * 0.95)], 2)}
            out[str(size)][form] = row
            print(f"search over {size:>8} posts, {form:<8}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms",
                  flush=True)
        db.dispose()
        path.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", default="civicwatch,bare,shot-scraper",
                        help="also civicwatch:first (a fresh install: every account signs in, nothing stored yet), "
                             "civicwatch:compact (Playwright's PNG encoder instead of the fast one), "
                             "civicwatch:nowarc (no HAR/WARC recording), "
                             "civicwatch:open (no [browser] allowed_hosts, so no request interception), "
                             "bare:browsers (the bare loop with one Chromium per worker), "
                             "bare:fast (the bare loop taking its screenshots with civicwatch's fast encoder), "
                             "bare:jpeg (the same call in JPEG, quality 90: lossy)")
    parser.add_argument("--chromium", help="the Chromium every tool runs (default: the one civicwatch finds)")
    parser.add_argument("--storage", action="store_true", help="also measure storage growth")
    parser.add_argument("--search", default="", help="also measure search, e.g. 100000,1000000")
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--executable", help=argparse.SUPPRESS)
    parser.add_argument("--browsers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--shot", default="playwright", choices=["playwright", "fast", "jpeg"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        urls = args.bare.read_text().split()
        asyncio.run(bare_loop(urls, args.concurrency, args.out, args.executable, args.browsers, args.shot))
        return

    become_subreaper()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "command": " ".join(sys.argv),
                               "machine": f"{os.cpu_count()} cores", "accounts": args.accounts,
                               "posts": args.posts, "concurrency": args.concurrency}
    sandbox, base = start_sandbox(args.accounts, args.posts)
    try:
        with tempfile.TemporaryDirectory(prefix="civicwatch-bench-") as scratch:
            work = Path(scratch)
            executable = args.chromium or chromium_path()
            results["chromium"] = executable
            urls = [f"{base}/p/bench{i:03d}?all=1" for i in range(args.accounts)]
            tools = [t for t in args.tools.split(",") if t]
            browsers = shot_scraper_browsers(work, executable) if "shot-scraper" in tools else None
            runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
            for round_no in range(args.rounds):
                for tool in tools:
                    if tool.startswith("civicwatch"):  # "civicwatch" or "civicwatch:compact" (a lever off)
                        m = run_civicwatch(base, args.accounts, args.posts, args.concurrency,
                                           work / tool.replace(":", "-"), tool.partition(":")[2], executable)
                    elif tool.startswith("bare"):  # "bare:browsers" = one Chromium per worker
                        shot: Shot = "fast" if tool == "bare:fast" else "jpeg" if tool == "bare:jpeg" else "playwright"
                        m = run_bare(urls, args.concurrency, work / "bare", executable,
                                     args.concurrency if tool == "bare:browsers" else 1, shot=shot)
                    else:
                        assert browsers is not None
                        m = run_shot_scraper(urls, args.concurrency, work / "shots", browsers)
                    m.pop("stdout", None)
                    runs[tool].append(m)
                    print(f"round {round_no + 1} {tool:<13} {args.accounts / m['seconds']:5.2f} pages/s  "
                          f"cpu {m['cpu_s'] / args.accounts:5.2f} s/page  peak PSS {m['peak_pss_mb']:6.0f} MB",
                          flush=True)
            summary = {}
            for tool, ms in runs.items():
                seconds = statistics.median(m["seconds"] for m in ms)
                summary[tool] = {"pages_per_s": round(args.accounts / seconds, 3),
                                 "cpu_s_per_page": round(statistics.median(m["cpu_s"] for m in ms) / args.accounts, 3),
                                 "peak_pss_mb": round(statistics.median(m["peak_pss_mb"] for m in ms)),
                                 "cpu_s_per_page_by_process": cpu_by_process(ms, args.accounts),
                                 **({"phase_s_per_account": median_phases(ms)} if "phases" in ms[0] else {}),
                                 "rounds": ms}
            if "civicwatch" in summary:
                ref = summary["civicwatch"]
                for tool, s in summary.items():
                    s["pages_per_s_vs_civicwatch"] = round(s["pages_per_s"] / ref["pages_per_s"], 2)
                    s["pss_vs_civicwatch"] = round(s["peak_pss_mb"] / ref["peak_pss_mb"], 2)
            for tool, s in summary.items():
                print(f"median {tool:<13} {s['pages_per_s']:5.2f} pages/s  {s['cpu_s_per_page']:5.2f} cpu-s/page  "
                      f"peak PSS {s['peak_pss_mb']:5d} MB")
                print(" " * 21 + "cpu-s/page by process: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in s["cpu_s_per_page_by_process"].items()))
                if "phase_s_per_account" in s:
                    print(" " * 21 + "wall s/account by phase: "
                          + ", ".join(f"{k} {v:.2f}" for k, v in s["phase_s_per_account"].items()))
            results["capture"] = summary
            if args.storage:
                results["storage"] = storage_growth(base, min(args.accounts, 10), args.posts, work / "storage")
                print("storage:", results["storage"], flush=True)
            if args.search:
                results["search"] = search_latency([int(s) for s in args.search.split(",")], work)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    write_results("capture", results)


if __name__ == "__main__":
    main()
