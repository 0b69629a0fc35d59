"""What a fresh browser context per page costs, against a reused page: the isolation lever.

    .venv/bin/python bench/contexts.py --pages 40 --rounds 3

civicwatch opens two browser contexts per run: the owner's (with that account's saved
cookies) and the visitor's (without any), so no account's session, cookies or cache can
leak into another's capture, and each run's HAR (the WARC) holds that run's traffic only.
This measures what that costs in Chromium: one Chromium loads the same sandbox feed page
PAGES times, in alternation, in three ways:

  reused    one page, navigated again each time (the bare screenshot loop's way)
  reused-nocache  the same with Chromium's cache off (every resource fetched and decoded again)
  new-page  a new page in one context each time (new renderer process, shared cookies)
  new-ctx   a new context and page each time, closed after (civicwatch's per-run isolation)

Each way runs in its own process, measured like bench/capture.py (wall time, CPU of the
whole process tree with orphaned Chromium helpers reaped, peak PSS); the per-page cost is
(CPU of PAGES loads - CPU of launching alone) / PAGES. `--compare-arg FLAG` runs every way
again with a Chromium flag, side by side in the same rounds. Writes bench/results/contexts-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.capture import VENV, become_subreaper, chromium_path, measure, start_sandbox
from bench.common import write_results

WAYS = ("reused", "reused-nocache", "new-page", "new-ctx")


async def load(url: str, way: str, pages: int, executable: str, extra: list[str]) -> None:
    """Load ``url`` ``pages`` times in one Chromium, the given way."""
    from playwright.async_api import async_playwright

    from agent.browser import launch_args

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=launch_args(extra, os.geteuid() == 0))
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        if way == "reused-nocache":
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        for _ in range(pages):
            if way == "new-page":
                await page.close()
                page = await context.new_page()
            elif way == "new-ctx":
                await context.close()
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
            await page.goto(url, wait_until="load")
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-arg", action="append", default=[],
                        help="also run every way with this Chromium flag (repeatable), side by side")
    parser.add_argument("--chromium-arg", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=3, metavar=("URL", "WAY", "PAGES"), help=argparse.SUPPRESS)
    parser.add_argument("--executable", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        url, way, pages = args.load
        asyncio.run(load(url, way, int(pages), args.executable, args.chromium_arg))
        return

    become_subreaper()
    sandbox, base = start_sandbox(1, 40)
    executable = chromium_path()
    url = f"{base}/p/bench000"

    def run(way: str, pages: int, extra: list[str]) -> dict[str, float]:
        m = measure([str(VENV / "python"), __file__, "--load", url, way, str(pages), "--executable", executable,
                     *(f"--chromium-arg={a}" for a in extra)])
        m.pop("stdout", None)
        return m

    variants = [(way, way, []) for way in WAYS]
    variants += [(f"{way} +flags", way, args.compare_arg) for way in WAYS if args.compare_arg]
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in variants}
    try:
        run("reused", 1, [])  # unmeasured: the first launch after a while reads Chromium from disk
        for round_no in range(args.rounds):
            launch = run("reused", 0, [])  # Chromium and Playwright starting and stopping, nothing loaded
            for name, way, extra in variants:
                m = run(way, args.pages, extra)
                m["cpu_ms_per_page"] = (m["cpu_s"] - launch["cpu_s"]) / args.pages * 1000
                m["wall_ms_per_page"] = (m["seconds"] - launch["seconds"]) / args.pages * 1000
                rounds[name].append(m)
                print(f"round {round_no + 1} {name:<21} {m['cpu_ms_per_page']:5.0f} CPU-ms/page  "
                      f"{m['wall_ms_per_page']:5.0f} ms/page  peak PSS {m['peak_pss_mb']:5.0f} MB", flush=True)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    summary: dict[str, Any] = {}
    for name, ms in rounds.items():
        summary[name] = {"cpu_ms_per_page": round(statistics.median(m["cpu_ms_per_page"] for m in ms)),
                         "wall_ms_per_page": round(statistics.median(m["wall_ms_per_page"] for m in ms)),
                         "rounds": ms}
        print(f"median {name:<21} {summary[name]['cpu_ms_per_page']:5d} CPU-ms/page  "
              f"{summary[name]['wall_ms_per_page']:5d} ms/page")
    results = {"when": datetime.now(UTC).isoformat(), "command": " ".join(sys.argv),
               "machine": f"{os.cpu_count()} cores", "pages": args.pages, "compared_flags": args.compare_arg,
               "url": "/p/bench000", "ways": summary}
    write_results("contexts", results)


if __name__ == "__main__":
    main()
