"""Shared fixtures: the sandbox network on 127.0.0.1 (port 0), configs, and runners.

Async code runs in a worker thread: pytest-playwright's sync API keeps an event loop
running on the main thread for the whole session, so ``asyncio.run`` cannot be used there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from agent.browser import QUIET_ARGS, BrowserHost, find_chromium
from agent.settings import BrowserSettings, Settings, load_settings
from sandbox.app import create_app
from sandbox.client import SandboxAdmin
from sandbox.server import ThreadedServer
from sandbox.state import SandboxState

T = TypeVar("T")


def in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh worker thread and return its result (or raise its error)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


class _LoopThread:
    """One event loop in a daemon thread for the whole session (shared browser lives here)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-loop", daemon=True)
        self.thread.start()

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        async def wrapped() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout=300)


_loop: _LoopThread | None = None


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on the session's event-loop thread and return its result."""
    global _loop
    if _loop is None:
        _loop = _LoopThread()
    return _loop.run(make)


@pytest.fixture(scope="session")
def shared_browser() -> Iterator[BrowserHost]:
    """One Chromium for tests that drive adapters directly (each test gets fresh contexts)."""
    host = BrowserHost(BrowserSettings(allowed_hosts=["127.0.0.1"], keep_warm=True, recycle_after=10_000))
    yield host
    run_async(host.close)


@dataclass
class Site:
    """The running sandbox: its URL, state and admin client."""

    base_url: str
    state: SandboxState
    admin: SandboxAdmin

    def url(self, slug: str) -> str:
        return f"{self.base_url}/p/{slug}"


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[tuple[ThreadedServer, SandboxState]]:
    state = SandboxState()
    server = ThreadedServer(create_app(state), "127.0.0.1", 0)
    server.start()
    yield server, state
    server.stop()


@pytest.fixture
def site(_sandbox_server: tuple[ThreadedServer, SandboxState]) -> Iterator[Site]:
    """The sandbox, reset to the Springfield demo seed for this test."""
    server, state = _sandbox_server
    admin = SandboxAdmin(server.base_url)
    admin.reset("demo")
    yield Site(server.base_url, state, admin)
    admin.close()


@pytest.fixture
def config_file(site: Site, tmp_path: Path) -> Path:
    """A civicwatch.toml for the four demo accounts, data in tmp_path/var."""
    from agent.demo import write_demo_files

    return write_demo_files(tmp_path / "var", site.base_url)


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load_settings(config_file)


def edit_config(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a config file (a test's way of changing one setting)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in config"
    path.write_text(text.replace(old, new, count))


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, read from its header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def set_key(path: Path, account: str, key: str, toml_value: str) -> None:
    """Add or replace ``key = value`` in the [[accounts]] entry with this id."""
    text = path.read_text()
    marker = f'id = "{account}"\n'
    assert marker in text
    head, tail = text.split(marker, 1)
    pattern = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
    block_end = tail.find("\n[")
    block, rest = (tail[:block_end], tail[block_end:]) if block_end != -1 else (tail, "")
    block = pattern.sub(f"{key} = {toml_value}", block) if pattern.search(block) else block + f"\n{key} = {toml_value}"
    path.write_text(head + marker + block + rest)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def run_cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Invoke ``civicwatch ARGS`` in-process (in a worker thread) and capture its output."""
    from agent.cli import cli

    def invoke() -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=True)

    result = in_thread(invoke)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return CliResult(result.exit_code, result.stdout, result.stderr, exc)


@pytest.fixture(scope="session")
def chromium_executable() -> str | None:
    """Playwright's Chromium if installed (None: let Playwright use it), else the system one."""

    async def probe() -> str:
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            return pw.chromium.executable_path

    bundled = run_async(probe)
    if Path(bundled).exists():
        return None
    return str(find_chromium(None, None))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any], chromium_executable: str | None) -> dict[str, Any]:
    """pytest-playwright launches the same Chromium civicwatch finds, with the same flags."""
    args = list(QUIET_ARGS) + (["--no-sandbox"] if os.geteuid() == 0 else [])
    launch = {**browser_type_launch_args, "args": args}
    if chromium_executable:
        launch["executable_path"] = chromium_executable
    return launch


def _archive_edits(site: Site) -> None:
    posts = site.admin.account("library")["posts"]
    site.admin.edit_post("library", posts[0]["id"], text="Story time moves to Wednesdays.")
    site.admin.delete_post("library", posts[1]["id"])


@pytest.fixture(scope="session")
def _archive_template(_sandbox_server: tuple[ThreadedServer, SandboxState],
                      tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: two runs of the library, the second after an edit and a deletion."""
    from agent.demo import write_demo_files

    server, _ = _sandbox_server
    admin = SandboxAdmin(server.base_url)
    admin.reset("demo")
    site = Site(server.base_url, _sandbox_server[1], admin)
    var = tmp_path_factory.mktemp("archive-template") / "var"
    config = write_demo_files(var, server.base_url)
    assert run_cli("--config", str(config), "check", "library").exit_code == 0
    _archive_edits(site)
    assert run_cli("--config", str(config), "check", "library").exit_code == 0
    admin.close()
    import sqlite3

    with sqlite3.connect(var / "civicwatch.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return var


@pytest.fixture
def archive(_archive_template: Path, site: Site, tmp_path: Path) -> Path:
    """A private copy of the template archive; the sandbox is put in the same state."""
    import shutil

    var = tmp_path / "var"
    shutil.copytree(_archive_template, var)
    config = var / "demo" / "civicwatch.toml"
    config.write_text(config.read_text().replace(str(_archive_template.resolve()), str(var.resolve())))
    _archive_edits(site)
    return config


from tests.postgres import postgres_url  # noqa: E402,F401  (a session fixture)
