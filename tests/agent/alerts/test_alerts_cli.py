"""`civicwatch alerts …`, and `civicwatch check` delivering its own alerts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.agent.alerts.conftest import SmtpSink, WebhookSink
from tests.conftest import edit_config, run_cli

CONFIG = """
[agent]
data_dir = "var"

[alerts]
portal_url = "https://cw.springfield.example"
{routes}

[[accounts]]
id = "parks"
name = "Springfield Parks & Rec"
platform = "sandbox"
url = "http://127.0.0.1:1/p/parks"
"""


def write(tmp_path: Path, routes: str) -> Path:
    path = tmp_path / "civicwatch.toml"
    path.write_text(CONFIG.format(routes=routes))
    return path


def test_alerts_test_sends_on_every_channel_and_names_the_broken_ones(
    tmp_path: Path, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    config = write(tmp_path, f"""
[[alerts.routes]]
name = "comms"
channels = ["{smtp.url()}", "env:CW_TEST_UNSET_WEBHOOK"]
[[alerts.routes]]
name = "it"
channels = ["{webhook.url('it')}"]
""")
    result = run_cli("--config", str(config), "alerts", "test")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "DISABLED  environment variable CW_TEST_UNSET_WEBHOOK is not set" in result.stdout
    assert [m.subject for m in smtp.mail] == ["[civicwatch] Test message for route comms"]
    assert [name for name, _ in webhook.received] == ["it"]
    only_it = run_cli("--config", str(config), "alerts", "test", "--route", "it")
    assert only_it.exit_code == 0 and len(webhook.received) == 2 and len(smtp.mail) == 1
    assert run_cli("--config", str(config), "alerts", "test", "--route", "nope").exit_code == 2


def test_outbox_and_flush_show_and_retry_what_failed(tmp_path: Path, webhook: WebhookSink) -> None:
    config = write(tmp_path, f'[[alerts.routes]]\nname = "it"\nchannels = ["{webhook.url("it")}"]')
    webhook.failing = True
    failed = run_cli("--config", str(config), "alerts", "test")
    assert failed.exit_code == 1 and "503" in failed.stdout
    outbox = run_cli("--config", str(config), "alerts", "outbox", "--json")
    [row] = [json.loads(line) for line in outbox.stdout.splitlines()]
    assert row["status"] == "pending" and row["attempts"] == 1 and "503" in row["last_error"]
    assert "body" not in row
    still_down = run_cli("--config", str(config), "alerts", "flush")
    assert still_down.exit_code == 1 and "failed 1 (will retry)" in still_down.stdout
    webhook.failing = False
    flushed = run_cli("--config", str(config), "alerts", "flush")
    assert flushed.exit_code == 0 and "delivered 1" in flushed.stdout and "pending now 0" in flushed.stdout
    assert run_cli("--config", str(config), "alerts", "outbox").stdout.strip() == "nothing pending"
    [sent] = [json.loads(x) for x in run_cli("--config", str(config), "alerts", "outbox", "--all", "--json").stdout.splitlines()]
    assert sent["status"] == "sent" and sent["attempts"] == 3
    assert [name for name, _ in webhook.received] == ["it"]


def test_check_delivers_the_alerts_of_its_run_before_exiting(config_file: Path, smtp: SmtpSink) -> None:
    text = re.sub(r'channels = \["json://[^"]+"\]', f'channels = ["{smtp.url()}"]', config_file.read_text())
    config_file.write_text(text)
    result = run_cli("--config", str(config_file), "check", "parks", "--json")
    assert result.exit_code == 0, result.stderr
    subjects = sorted(m.subject for m in smtp.mail)
    assert subjects == ["[civicwatch] HIGH unauthorized_author: Springfield Parks & Rec",
                        "[civicwatch] MEDIUM prohibited_content: Springfield Parks & Rec"]
    unauthorized = next(m for m in smtp.mail if "unauthorized" in m.subject)
    assert "Tom Intern" in unauthorized.text()
    [(_, media, png)] = unauthorized.attachments()
    assert media == "image/png" and png.startswith(b"\x89PNG") and len(png) < 200_000
    again = run_cli("--config", str(config_file), "check", "parks", "--json")
    assert again.exit_code == 0 and len(smtp.mail) == 2
