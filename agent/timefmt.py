"""Showing UTC times to people in the city's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo


def local(value: datetime | None, timezone: str) -> str:
    """``2026-11-20 09:15 CST`` for a stored UTC time; pure."""
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def parse_day_or_time(text: str, timezone: str) -> datetime:
    """``2026-01-31`` (midnight, city time) or an ISO time -> UTC; raises ValueError."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        if len(text.strip()) == 10:
            parsed = datetime.combine(parsed.date(), time(0))
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(UTC)
