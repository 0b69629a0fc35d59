"""Message rendering and route matching: pure, fast."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.alerts.channels import channel_id, channel_label
from agent.alerts.render import FindingView, defang, finding_message, quote
from agent.alerts.routing import routes_for
from agent.settings import AlertSettings

T = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def view(**fields: object) -> FindingView:
    values: dict[str, object] = dict(
        id=7, kind="prohibited_content", severity="medium", summary="Public comment contains a phone number",
        subject="comment:c9", clause="702.5(b)", status="open", account_id="parks",
        account_name="Springfield Parks", department="Parks", first_seen_at=T, last_seen_at=T, times_seen=1,
        evidence_run_id="r1", details={"text": "call me", "matches": [{"label": "a phone number", "excerpt": "555"}]},
    )
    values.update(fields)
    return FindingView(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("see https://evil.example/a", "see hxxps://evil.example/a"), ("HTTP://X.Y", "hxxp://X.Y"),
     ("ftp://files", "fxp://files"), ("bell\x07 and \u202eRLO", "bell and RLO")],
)
def test_defang_disables_links_and_control_characters(raw: str, safe: str) -> None:
    assert defang(raw) == safe


def test_quoted_text_is_indented_and_bounded() -> None:
    quoted = quote("line one\n# line two\n" + "x" * 5000)
    assert quoted.startswith("  | line one\n  | # line two")
    assert len(quoted) < 1400 and quoted.endswith("…")


def test_the_subject_holds_only_trusted_values() -> None:
    subject, _ = finding_message(view(summary="<img src=x onerror=alert(1)>"), "UTC", None)
    assert subject == "[civicwatch] MEDIUM prohibited_content: Springfield Parks"


def test_the_body_has_what_a_supervisor_needs_in_city_time() -> None:
    _, body = finding_message(view(), "America/Los_Angeles", "https://cw.example/")
    assert "Seen:      2026-11-20 07:30 PST" in body
    assert "Policy:    702.5(b)" in body and "Account:   Springfield Parks (parks), Parks" in body
    assert "  - a phone number: 555" in body
    assert "Open:        https://cw.example/findings/7" in body
    assert 'civicwatch findings ack 7 --by "YOUR NAME"' in body


def test_channel_labels_never_show_credentials() -> None:
    url = "mailtos://user:S3cret@smtp.city.example:587?to=pio@city.example"
    assert channel_label(url) == "mailtos://smtp.city.example:587"
    assert "S3cret" not in channel_id(url)


ROUTES = AlertSettings(routes=[
    {"name": "comms", "channels": [], "kinds": ["unauthorized_author", "prohibited_content"], "min_severity": "medium"},
    {"name": "police-pio", "channels": [], "departments": ["Police"]},
    {"name": "it", "channels": [], "kinds": ["login_failed", "capture_failed", "structure_changed"]},
    {"name": "fallback", "channels": [], "default": True},
])


@pytest.mark.parametrize(
    ("kind", "severity", "account", "department", "expected"),
    [
        ("unauthorized_author", "high", "parks", "Parks", ["comms"]),
        ("prohibited_content", "low", "parks", "Parks", ["fallback"]),
        ("prohibited_content", "medium", "police", "Police", ["comms", "police-pio"]),
        ("login_failed", "high", "parks", "Parks", ["it"]),
        ("post_edited", "low", "parks", "Parks", ["fallback"]),
    ],
)
def test_routes_match_on_kind_severity_and_department_with_a_default(
    kind: str, severity: str, account: str, department: str, expected: list[str]
) -> None:
    assert [r.name for r in routes_for(ROUTES, kind, severity, account, department)] == expected


def test_escalation_must_name_a_route() -> None:
    with pytest.raises(ValueError, match="escalate_to 'nobody' is not a route"):
        AlertSettings(routes=[{"name": "a", "escalate_after": "1h", "escalate_to": "nobody"}])
