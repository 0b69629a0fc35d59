"""Alerts over a real SMTP server and a real webhook: content, routing, faults, noise control."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

from PIL import Image
from sqlmodel import select

from agent.alerts.alerter import Alerter
from agent.alerts.delivery import scheduled_alerts
from agent.errors import LoginFailed
from storage.models import DeliveryAttempt, Notification
from tests.agent.alerts.conftest import SmtpSink, WebhookSink
from tests.world import World, make_world, post

HOSTILE = "<script>alert(1)</script> **bold** [click](https://evil.example/x) call 555-867-5309"


def routes(smtp: SmtpSink, webhook: WebhookSink) -> str:
    return f"""
[alerts]
portal_url = "https://civicwatch.springfield.example"
failures_before_alert = 2

[[alerts.routes]]
name = "communications"
channels = ["{smtp.url('pio@springfield.example')}"]
kinds = ["unauthorized_author", "public_posting_enabled", "public_post_present", "prohibited_content"]
min_severity = "medium"

[[alerts.routes]]
name = "it"
channels = ["{webhook.url('it')}"]
kinds = ["login_failed", "capture_failed", "structure_changed"]

[[alerts.routes]]
name = "everything-else"
channels = ["{webhook.url('catchall')}"]
default = true
"""


def rows(world: World) -> list[Notification]:
    with world.services.db.session() as s:
        return list(s.exec(select(Notification).order_by(Notification.id)).all())


def test_a_new_finding_is_mailed_once_with_an_escaped_body_and_a_screenshot_crop(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    world.capture("parks", [post("p1", HOSTILE, publisher="Tom Intern")])
    world.sender().deliver_due()
    [mail] = smtp.mail
    assert mail.recipients == ["pio@springfield.example"]
    assert mail.subject == "[civicwatch] HIGH unauthorized_author: Springfield Parks & Rec"
    body = mail.text()
    assert "Post published by 'Tom Intern' on Springfield Parks & Rec: not an authorised author" in body
    assert "Policy:    702.3 Authorized users" in body
    assert "Seen:      2026-" in body and "CST" in body  # the city's time zone
    assert "Open:        https://civicwatch.springfield.example/findings/1" in body
    assert "  | <script>alert(1)</script> **bold** [click](hxxps://evil.example/x)" in body
    assert "https://evil.example" not in body
    assert mail.message.get_body(preferencelist=("html",)) is None
    [(name, media, data)] = mail.attachments()
    assert media == "image/png" and name.endswith(".png")
    crop = Image.open(io.BytesIO(data))
    assert crop.size == (648, 248)  # the post's box plus a margin, not the whole page
    world.capture("parks", [post("p1", HOSTILE, publisher="Tom Intern")])
    world.sender().deliver_due()
    assert len(smtp.mail) == 1  # a recurring open finding does not re-alert


def test_routing_by_kind_and_severity_with_a_default_route(tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    world.capture("parks", [post("p1"), post("p2", "Pool closes at 6.")])
    world.capture("parks", [post("p1", "Leaf pickup starts Tuesday.")])  # an edit (low) and a deletion
    world.sender().deliver_due()
    assert smtp.mail == []
    kinds = sorted(payload["title"].split()[2].rstrip(":") for name, payload in webhook.received)
    assert {name for name, _ in webhook.received} == {"catchall"}
    assert kinds == ["post_deleted", "post_edited"]


def test_operational_failures_alert_after_two_runs_then_a_recovery_notice(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    world.fail("police", LoginFailed("the site refused the login: Wrong password"))
    world.sender().deliver_due()
    assert webhook.received == []
    world.fail("police", LoginFailed("the site refused the login: Wrong password"))
    world.fail("police", LoginFailed("the site refused the login: Wrong password"))
    world.sender().deliver_due()
    assert [(n, p["title"]) for n, p in webhook.received] == [
        ("it", "[civicwatch] HIGH login_failed: Springfield Police Department")]
    assert "Wrong password" in webhook.received[0][1]["message"]
    world.capture("police", [post("p1", author="Springfield Police Department", publisher=None)])
    world.sender().deliver_due()
    assert webhook.received[-1][1]["title"] == "[civicwatch] RECOVERED login_failed: Springfield Police Department"
    assert len(webhook.received) == 2


def test_a_single_failed_run_that_recovers_sends_nothing(tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    world.fail("police", LoginFailed("refused"))
    world.capture("police", [post("p1", author="Springfield Police Department", publisher=None)])
    world.sender().deliver_due()
    assert webhook.received == [] and smtp.mail == []


def test_smtp_down_for_an_hour_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    smtp.down()
    for i in range(5):
        world.capture("parks", [post(f"p{j}", publisher="Tom Intern") for j in range(i + 1)])
    sender = world.sender()
    for _ in range(12):  # an hour of retries, five minutes apart
        stats = sender.deliver_due()
        assert stats.sent == 0
        world.advance(timedelta(minutes=5))
    with world.services.db.session() as s:
        attempts = s.exec(select(DeliveryAttempt)).all()
    assert attempts and all(a.result == "failed" and "127.0.0.1" in a.channel_label for a in attempts)
    assert any("onnection" in (a.error or "") for a in attempts)
    assert {r.status for r in rows(world)} == {"pending"}
    smtp.up()
    world.advance(timedelta(minutes=31))
    assert sender.deliver_due().sent == 5
    world.advance(timedelta(hours=2))
    assert sender.deliver_due().sent == 0
    assert sorted(m.text().count("Post published by") for m in smtp.mail) == [1] * 5
    assert len({m.text().split("About:")[1].split()[0] for m in smtp.mail}) == 5


def test_a_message_undeliverable_past_give_up_after_is_marked_failed(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    world = make_world(tmp_path, routes(smtp, webhook).replace("failures_before_alert = 2",
                                                                'failures_before_alert = 2\ngive_up_after = "1h"'))
    webhook.failing = True
    world.capture("parks", [post("p1"), post("p2")])
    world.capture("parks", [post("p1")])
    sender = world.sender()
    sender.deliver_due()
    world.advance(timedelta(hours=2))
    stats = sender.deliver_due()
    assert stats.gave_up == 1 and rows(world)[0].status == "failed"
    assert "503" in (rows(world)[0].last_error or "")


def test_a_hundred_findings_at_once_are_all_delivered_and_routed(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    posts = [post(f"p{i}", publisher="Tom Intern" if i % 2 else "Jane Okafor",
                  text="call me at 555-867-5309" if i % 2 == 0 else "Hello") for i in range(100)]
    report = world.capture("parks", posts)
    assert len(report.findings) == 50  # 50 unauthorised posts; page posts' phone numbers are fine
    world.capture("police", [post(f"v{i}", author=f"Visitor {i}", publisher=None, visitor=True) for i in range(50)])
    sender = world.sender()
    while sender.deliver_due().sent:
        pass
    assert len(smtp.mail) == 100 and len(webhook.received) == 0
    assert sum("unauthorized_author" in m.subject for m in smtp.mail) == 50
    assert sum("public_post_present" in m.subject for m in smtp.mail) == 50


def test_unacknowledged_findings_escalate_once_and_acknowledged_ones_do_not(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    config = routes(smtp, webhook).replace('min_severity = "medium"', 'min_severity = "medium"\n'
                                           'escalate_after = { high = "4h", medium = "1d" }\nescalate_to = "it"')
    world = make_world(tmp_path, config)
    world.capture("parks", [post("p1", publisher="Tom Intern"), post("p2", publisher="Rick Intern")])
    sender = world.sender()
    sender.deliver_due()
    from storage import findings as store
    with world.services.db.session() as s:
        store.acknowledge(s, 2, "pio", None, world.now())
    alerter = Alerter(world.settings, world.services.archive.blobs)
    world.advance(timedelta(hours=3))
    assert scheduled_alerts(world.services, alerter, world.now()) == 0
    world.advance(timedelta(hours=2))
    assert scheduled_alerts(world.services, alerter, world.now()) == 1
    assert scheduled_alerts(world.services, alerter, world.now()) == 0
    sender.deliver_due()
    [(name, payload)] = webhook.received
    assert name == "it" and payload["title"].startswith("[civicwatch] ESCALATED HIGH unauthorized_author")
    assert "Not acknowledged after 4h" in payload["message"]


def test_a_daily_digest_lists_open_findings_once_a_day(tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink) -> None:
    config = routes(smtp, webhook).replace('name = "communications"', 'name = "communications"\ndigest = "daily 08:00"')
    world = make_world(tmp_path, config)
    world.capture("parks", [post("p1", publisher="Tom Intern")])
    alerter = Alerter(world.settings, world.services.archive.blobs)
    sender = world.sender()
    sender.deliver_due()
    chicago = ZoneInfo("America/Chicago")
    tomorrow = (world.now().astimezone(chicago) + timedelta(days=1)).date()
    early = datetime.combine(tomorrow, time(6, 0), chicago)
    assert scheduled_alerts(world.services, alerter, early) == 0
    assert scheduled_alerts(world.services, alerter, early + timedelta(hours=2, minutes=5)) == 1
    assert scheduled_alerts(world.services, alerter, early + timedelta(hours=5)) == 0
    assert scheduled_alerts(world.services, alerter, early + timedelta(days=1, hours=3)) == 1
    world.advance(early + timedelta(days=1, hours=3) - world.now())
    sender.deliver_due()
    assert len(smtp.mail) == 3
    digest = smtp.mail[1]
    assert digest.subject.startswith(f"[civicwatch] Daily digest {tomorrow.isoformat()}: 1 open finding(s)")
    assert "#1     HIGH     Springfield Parks & Rec: Post published by 'Tom Intern'" in digest.text()


def test_a_sender_killed_between_send_and_commit_duplicates_at_most_one_and_loses_none(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    world = make_world(tmp_path, routes(smtp, webhook))
    world.capture("parks", [post(f"p{i}", publisher="Tom Intern") for i in range(5)])
    proc = subprocess.run([sys.executable, "-m", "tests.agent.alerts.killed_sender", str(tmp_path / "civicwatch.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert len(smtp.mail) == 1
    assert [r.status for r in rows(world)].count("sending") == 1
    sender = world.sender()
    assert sender.deliver_due().sent == 4  # the orphaned claim is not someone else's yet
    world.advance(timedelta(minutes=6))
    assert sender.deliver_due().sent == 1
    delivered = [m.text().split("About:")[1].split()[0] for m in smtp.mail]
    assert sorted(set(delivered)) == [f"post:p{i}" for i in range(5)]
    assert len(delivered) - len(set(delivered)) <= 1
    assert {r.status for r in rows(world)} == {"sent"}
