"""A small installation for alert tests: config, archive, and captures made without a browser."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from agent.alerts.alerter import Alerter
from agent.alerts.sender import Sender
from agent.errors import CivicwatchError
from agent.recorder import Captured, Recorder, RunReport
from agent.runner import new_run_id
from agent.services import Services, open_services
from agent.settings import load_settings
from flows.base import Artifact, CaptureResult, LoginOutcome, Post, Profile, Snapshot
from storage.clock import utcnow
from storage.models import Run
from storage.outbox import Outbox

ACCOUNTS = """
[[accounts]]
id = "parks"
name = "Springfield Parks & Rec"
department = "Parks"
platform = "sandbox"
url = "http://127.0.0.1:1/p/parks"
authorized_authors = ["Springfield Parks & Rec", "Jane Okafor"]

[[accounts]]
id = "police"
name = "Springfield Police Department"
department = "Police"
platform = "sandbox"
url = "http://127.0.0.1:1/p/police"
authorized_authors = ["Springfield Police Department"]
"""

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def screenshot(height: int = 2000) -> bytes:
    image = Image.new("RGB", (1280, height), "white")
    ImageDraw.Draw(image).rectangle((100, 400, 700, 600), fill="red")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


SHOT = screenshot()


@dataclass
class World:
    services: Services
    recorder: Recorder
    #: the test clock runs with real time, shifted by what the test has skipped ahead
    offset: list[timedelta]

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.services.settings

    def now(self) -> datetime:
        return utcnow() + self.offset[0]

    def advance(self, delta: timedelta) -> None:
        self.offset[0] += delta

    def sender(self) -> Sender:
        alerter = Alerter(self.settings, self.services.archive.blobs)
        return Sender(Outbox(self.services.db), self.services.archive.blobs, self.settings.alerts,
                      alerter.channels, clock=self.now, jitter=lambda: 1.0)

    def _run(self, account_id: str) -> Run:
        run = Run(id=new_run_id(utcnow()), account_id=account_id, platform="sandbox", requested_url="http://x")
        self.services.archive.start_run(run)
        return run

    def capture(self, account_id: str, posts: list[Post], name: str | None = None) -> RunReport:
        """Record a capture of these posts, as if the browser had just seen them."""
        account = self.settings.account(account_id)
        snapshot = Snapshot(
            account_id=account_id, platform="sandbox", requested_url=account.url, final_url=account.url,
            user_agent="UA", viewport=(1280, 900), browser_version="test", feed_complete=True,
            profile=Profile(name=name or account.name), posts=tuple(posts),
        )
        result = CaptureResult(snapshot, [Artifact("screenshot", "image/png", SHOT, account.url)])
        return self.recorder.success(self._run(account_id), account, Captured(result, LoginOutcome.FRESH, None, None))

    def fail(self, account_id: str, exc: CivicwatchError) -> RunReport:
        return self.recorder.failure(self._run(account_id), self.settings.account(account_id), exc)


def make_world(tmp_path: Path, alerts_toml: str) -> World:
    config = tmp_path / "civicwatch.toml"
    config.write_text(f'[agent]\ndata_dir = "var"\ntimezone = "America/Chicago"\n\n{alerts_toml}\n{ACCOUNTS}')
    services = open_services(load_settings(config))
    return World(services, Recorder(services), [timedelta(0)])


def post(pid: str, text: str = "Leaf pickup starts Monday.", **fields: object) -> Post:
    values: dict[str, object] = {"author": "Springfield Parks & Rec", "publisher": "Jane Okafor",
                                 "time": T0 - timedelta(hours=1), "box": (100, 400, 600, 200)}
    values.update(fields)
    return Post(id=pid, text=text, **values)  # type: ignore[arg-type]
