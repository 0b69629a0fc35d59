"""`civicwatch doctor`: is this installation healthy, and if not, what to do about it."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from agent.browser import BrowserHost
from agent.errors import CivicwatchError
from agent.services import Services, shortage_message
from agent.units import format_size
from flows.proxy import Proxy
from storage.clock import utcnow
from storage.db import Database
from storage.models import Heartbeat
from storage.space import free_space

_GIB = 1024**3


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok warn fail
    detail: str
    fix: str = ""


def _browser(services: Services) -> Check:
    async def probe() -> str:
        host = BrowserHost(services.settings.browser)
        try:
            async with asyncio.timeout(60), host.context() as context:
                page = await context.new_page()
                await page.set_content("<h1 id=ok>ok</h1>")
                await page.screenshot()
                return f"Chromium {host.version} at {host.executable} starts and renders"
        finally:
            await host.close()

    try:
        return Check("browser", "ok", asyncio.run(probe()))
    except TimeoutError:
        return Check("browser", "fail", "Chromium did not start and render within 60 s",
                     "check `civicwatch browser path`; run as a non-root user or keep --no-sandbox")
    except CivicwatchError as exc:
        return Check("browser", "fail", exc.message,
                     "install Chromium (docs/install.md) or set [browser] executable_path")


def _database(services: Services) -> Check:
    db: Database = services.db
    try:
        version = db.schema_version()
    except Exception as exc:  # noqa: BLE001 - any driver error is a finding of the doctor
        return Check("database", "fail", f"cannot query {db.describe()}: {str(exc).splitlines()[0]}",
                     "check [agent] database_url and that the database server is reachable")
    if version != Database.head_version():
        return Check("database", "warn", f"schema at {version}, this civicwatch expects {Database.head_version()}",
                     "start civicwatch once (it migrates at start)")
    if db.is_sqlite:
        with db.engine.connect() as conn:
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
            sync = conn.execute(text("PRAGMA synchronous")).scalar()
            quick = conn.execute(text("PRAGMA quick_check")).scalar()
        if quick != "ok":
            return Check("database", "fail", f"SQLite reports corruption: {quick}",
                         "restore the last backup (docs/operations.md)")
        if mode != "wal" or sync != 2:
            return Check("database", "warn", f"SQLite journal_mode={mode}, synchronous={sync}",
                         "expected WAL and FULL; is another program opening the database?")
    return Check("database", "ok", f"{db.describe()}, schema {version}")


def _storage(services: Services) -> Check:
    data_dir = services.settings.agent.data_dir
    try:
        probe = services.archive.blobs.put(f"civicwatch doctor {utcnow().isoformat()}".encode())
        services.archive.blobs.remove(probe.sha256)
    except CivicwatchError as exc:
        return Check("storage", "fail", exc.message, f"make {data_dir} writable by the civicwatch user")
    minimum = services.settings.agent.min_free_space
    fullest = min(free_space(services.storage_paths()), key=lambda space: space.free)
    where = f"{format_size(fullest.free)} free under {fullest.path}"
    if fullest.free < minimum:
        return Check("storage", "fail", shortage_message(fullest, minimum),
                     "free disk space, or move data_dir to a larger volume (docs/operations.md)")
    if fullest.free < 5 * (minimum or _GIB):
        return Check("storage", "warn", where, "plan for more space: below [agent] min_free_space "
                                                f"({format_size(minimum)}) every run is refused")
    return Check("storage", "ok", f"blob store writable, {where}")


def _keys(services: Services) -> Check:
    directory = services.settings.agent.data_dir / "keys"
    # public keys (signing-*.pub) are meant to be read: anyone may verify the manifests
    secret = sorted(p for p in directory.glob("*") if p.suffix != ".pub")
    loose = [p.name for p in secret if stat.S_IMODE(p.stat().st_mode) & 0o077]
    if loose:
        return Check("keys", "fail", f"readable by other users: {', '.join(loose)}", f"chmod 600 {directory}/*.key")
    return Check("keys", "ok", f"the private keys in {directory} are readable by this user only")


def _channels(services: Services) -> Check:
    from agent.alerts.channels import build_channels

    routes = services.settings.alerts.routes
    if not routes:
        return Check("alerts", "warn", "no [[alerts.routes]]: nobody is told about findings",
                     "configure a route (docs/alerts.md)")
    channels = build_channels(services.settings.alerts)
    broken = [f"{c.route}: {c.label} ({c.problem})" for c in channels.values() if not c.usable]
    if broken:
        return Check("alerts", "fail", "disabled channels: " + "; ".join(broken),
                     "fix the channel URL or its secret; then `civicwatch alerts test`")
    return Check("alerts", "ok", f"{len(channels)} channel(s) on {len(routes)} route(s); "
                                 "send a test with `civicwatch alerts test`")


def _links(services: Services) -> Check:
    """Link checks: off, direct, or through a proxy that accepts connections."""
    links = services.settings.links
    if not links.enabled:
        return Check("links", "ok", "link checks are off ([links] enabled = false)")
    proxies = sorted({p for p in links.proxies() if p is not None}, key=str)
    if not proxies:
        return Check("links", "ok", "link checks connect directly (no proxy)")

    async def reach(proxy: Proxy) -> None:
        async with asyncio.timeout(10):
            _, writer = await asyncio.open_connection(proxy.host, proxy.port)
        writer.close()

    for proxy in proxies:
        try:
            asyncio.run(reach(proxy))
        except (OSError, TimeoutError) as exc:
            reason = "no answer within 10 s" if isinstance(exc, TimeoutError) else (
                os.strerror(exc.errno) if exc.errno else str(exc))
            return Check("links", "fail", f"the proxy {proxy} cannot be reached: {reason}",
                         'check [links] proxy or the https_proxy/http_proxy variables; '
                         '[links] proxy = "none" connects directly')
    return Check("links", "ok", f"link checks go through {', '.join(map(str, proxies))}, "
                                "which accepts connections")


def _clock(_: Services) -> Check:
    now = datetime.now(UTC)
    if now.year < 2025:
        return Check("clock", "fail", f"the system clock says {now:%Y-%m-%d}", "set the clock / enable NTP")
    timedatectl = shutil.which("timedatectl")
    if timedatectl:
        result = subprocess.run([timedatectl, "show", "-p", "NTPSynchronized", "--value"],
                                capture_output=True, text=True, timeout=10, check=False)
        if result.stdout.strip() == "no":
            return Check("clock", "warn", "the clock is not NTP-synchronised",
                         "enable time sync (timedatectl set-ntp true): evidence times depend on it")
    return Check("clock", "ok", f"{now:%Y-%m-%d %H:%M:%S} UTC")


def _daemon(services: Services) -> Check:
    with services.db.session() as s:
        beat = s.get(Heartbeat, 1)
    if beat is None:
        return Check("daemon", "warn", "has never run", "start it: `civicwatch run` (or the systemd unit)")
    age = (utcnow() - beat.beat_at).total_seconds()
    if beat.stopped_at is not None or age > 120:
        return Check("daemon", "warn", f"not running (last heartbeat {int(age)} s ago, pid {beat.pid})",
                     "start it: `systemctl start civicwatch` or `civicwatch run`")
    return Check("daemon", "ok", f"running, pid {beat.pid} on {beat.host}")


CHECKS: tuple[Callable[[Services], Check], ...] = (
    _database, _storage, _keys, _browser, _channels, _links, _clock, _daemon)


def diagnose(services: Services) -> list[Check]:
    return [check(services) for check in CHECKS]


def running_as_root() -> bool:
    return os.geteuid() == 0
