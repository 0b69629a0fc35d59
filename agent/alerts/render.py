"""Alert messages as plain text: pure functions.

Everything quoted from a captured page is hostile input. It is sent as plain text
(Apprise escapes it for HTML and Markdown targets), stripped of control characters,
its links defanged (``hxxps://``) so no mail client makes them clickable, and each line
prefixed with ``  | ``. The subject holds only trusted values: severity, kind and the
account's configured name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.printable import printable
from agent.timefmt import local

_SCHEME = re.compile(r"\b(https?|ftp)://", re.IGNORECASE)
_MAX_QUOTE = 1200


@dataclass(frozen=True)
class FindingView:
    """What a message says about a finding."""

    id: int
    kind: str
    severity: str
    summary: str
    subject: str
    clause: str
    status: str
    account_id: str
    account_name: str
    department: str
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int
    evidence_run_id: str
    details: Mapping[str, Any] = field(default_factory=dict)


def defang(text: str) -> str:
    """Inert text: no control characters, no clickable links; pure."""
    text = printable(text)
    return _SCHEME.sub(lambda m: m.group(1).lower().replace("t", "x", 2) + "://", text)


def quote(text: str, limit: int = _MAX_QUOTE) -> str:
    """Captured text as an inert indented block; pure."""
    text = defang(text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "\n".join(f"  | {line}" for line in text.splitlines() or [""])


def _link(portal_url: str | None, finding_id: int) -> str | None:
    return f"{portal_url.rstrip('/')}/findings/{finding_id}" if portal_url else None


def _details(view: FindingView) -> list[str]:
    d = view.details
    lines: list[str] = []
    for match in d.get("matches", []):
        shown = f": {defang(match['excerpt'])}" if match.get("excerpt") else ""
        lines.append(f"  - {match['label']}{shown}")
    if "before" in d and "after" in d and view.kind == "post_edited":
        lines += ["  before:", quote(str(d["before"])), "  after:", quote(str(d["after"]))]
    if view.kind == "profile_changed":
        for name, change in d.items():
            lines.append(f"  {name}: {defang(str(change.get('before')))} -> {defang(str(change.get('after')))}")
    if view.kind in ("login_failed", "capture_failed") and d.get("error"):
        lines.append(f"  error: {defang(str(d['error']))}")
    return lines


def finding_message(
    view: FindingView, timezone: str, portal_url: str | None, *, escalated_from: str | None = None,
    waited: str | None = None,
) -> tuple[str, str]:
    """Subject and body for a new, reopened or escalated finding."""
    prefix = "ESCALATED " if escalated_from else ""
    subject = f"[civicwatch] {prefix}{view.severity.upper()} {view.kind}: {view.account_name}"
    department = f", {view.department}" if view.department else ""
    repeat = f", seen {view.times_seen} times" if view.times_seen > 1 else ""
    body = []
    if escalated_from:
        body += [f"Not acknowledged after {waited}; escalated from route {escalated_from!r}.", ""]
    body += [
        defang(view.summary),
        "",
        f"Account:   {view.account_name} ({view.account_id}){department}",
        f"Finding:   #{view.id} {view.kind}, severity {view.severity}, {view.status}",
        f"Policy:    {view.clause}",
        f"Seen:      {local(view.first_seen_at, timezone)} (last {local(view.last_seen_at, timezone)}{repeat})",
        f"About:     {view.subject}",
        f"Evidence:  capture {view.evidence_run_id}",
    ]
    text = view.details.get("text") or view.details.get("after")
    if text and view.kind != "post_edited":
        body += ["", "Content as captured (links disabled):", quote(str(text))]
    extra = _details(view)
    if extra:
        body += ["", "Details:", *extra]
    body.append("")
    link = _link(portal_url, view.id)
    if link:
        body.append(f"Open:        {link}")
    body.append(f'Acknowledge: civicwatch findings ack {view.id} --by "YOUR NAME"')
    return subject, "\n".join(body)


def recovery_message(view: FindingView, run_id: str, timezone: str, portal_url: str | None) -> tuple[str, str]:
    """Subject and body for an operational problem that went away."""
    subject = f"[civicwatch] RECOVERED {view.kind}: {view.account_name}"
    body = [
        f"{view.account_name} ({view.account_id}) passes again: run {run_id} succeeded.",
        f"Finding #{view.id} ({view.kind}, first seen {local(view.first_seen_at, timezone)}) "
        "was resolved automatically.",
        "",
        f"The problem was: {defang(view.summary)}",
    ]
    link = _link(portal_url, view.id)
    if link:
        body += ["", f"Open: {link}"]
    return subject, "\n".join(body)


def digest_message(
    route: str, views: Sequence[FindingView], day: str, timezone: str, portal_url: str | None
) -> tuple[str, str]:
    """The daily summary of open findings for a route."""
    subject = f"[civicwatch] Daily digest {day}: {len(views)} open finding(s) ({route})"
    if not views:
        return subject, f"No open findings for route {route!r} on {day}."
    body = [f"Open findings for route {route!r} on {day}, most severe first:", ""]
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    for v in sorted(views, key=lambda v: (order.get(v.severity, 9), v.id)):
        status = "" if v.status == "open" else f" [{v.status}]"
        body.append(f"#{v.id:<5} {v.severity.upper():<8} {v.account_name}: {defang(v.summary)}{status}")
        body.append(f"       since {local(v.first_seen_at, timezone)}")
    if portal_url:
        body += ["", f"Open: {portal_url.rstrip('/')}/findings"]
    return subject, "\n".join(body)


def test_message(route: str, sent_at: datetime, timezone: str) -> tuple[str, str]:
    """A harmless message proving a route's channels work."""
    return (
        f"[civicwatch] Test message for route {route}",
        f"This is a test of the civicwatch alert route {route!r}, sent {local(sent_at, timezone)}.\n"
        "If you can read this, alerts on this channel work.",
    )
