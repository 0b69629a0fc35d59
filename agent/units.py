"""Pure parsers for the human-written values in civicwatch.toml: durations, sizes and schedules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 365 * 86400,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)")


def parse_duration(text: str | float | timedelta) -> timedelta:
    """``"90s"``, ``"30m"``, ``"1h30m"``, ``"3y"`` or a number of seconds -> timedelta."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, bool):
        raise ValueError("a duration is a number of seconds or text like '30m'")  # noqa: TRY004 (pydantic wants ValueError)
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=text)
    if not isinstance(text, str):
        raise ValueError("a duration is a number of seconds or text like '30m'")  # noqa: TRY004
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(
            f"{text!r} is not a duration; write e.g. '45s', '30m', '4h', '1h30m', '7d' or '3y'"
        )
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """The way people write it: 5400 s -> '1h30m', 30 days -> '30d', 3 years -> '3y'; pure."""
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds % _UNIT_SECONDS["y"] == 0:
        return f"{int(seconds // _UNIT_SECONDS['y'])}y"
    out = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            out.append(f"{int(count)}{unit}")
    return "".join(out) or "0s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(text: str | int) -> int:
    """``"1 GiB"``, ``"500MB"``, ``"0"`` or a number of bytes -> bytes; pure."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError("a size is a number of bytes or text like '2 GiB'")  # noqa: TRY004 (pydantic wants ValueError)
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a size cannot be negative")
        return text
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None or match.group(2) not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size; write e.g. '500 MB', '2 GiB' or a number of bytes")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def format_size(size: int) -> str:
    """Bytes the way people read them, in binary units: 1536 -> '1.5 KiB'; pure."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


ByteSize = Annotated[int, BeforeValidator(parse_size), PlainSerializer(format_size, return_type=str)]

@dataclass(frozen=True)
class Schedule:
    """When an account is checked: every N (with jitter) or a cron expression."""

    kind: Literal["interval", "cron"]
    every: timedelta | None = None
    cron: str | None = None
    jitter: timedelta = timedelta(0)

    def __str__(self) -> str:
        if self.kind == "cron":
            return f"cron: {self.cron}"
        text = f"every {format_duration(self.every or timedelta(0))}"
        return text + (f" jitter {format_duration(self.jitter)}" if self.jitter else "")


_EVERY = re.compile(r"^every\s+(?P<every>\S+)(?:\s+jitter\s+(?P<jitter>\S+))?$", re.IGNORECASE)
_MIN_INTERVAL = timedelta(minutes=1)


def parse_schedule(text: str | Schedule) -> Schedule:
    """``"every 30m"``, ``"every 1h jitter 5m"`` or ``"cron: 0 */2 * * *"`` -> Schedule."""
    if isinstance(text, Schedule):
        return text
    text = text.strip()
    if text.lower().startswith("cron:"):
        expr = " ".join(text[5:].split())
        _check_cron(expr)
        return Schedule(kind="cron", cron=expr)
    match = _EVERY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a schedule; write 'every 30m' or 'cron: 0 */2 * * *'")
    every = parse_duration(match["every"])
    if every < _MIN_INTERVAL:
        raise ValueError(f"{text!r} is too frequent; the shortest interval is 1m")
    jitter = parse_duration(match["jitter"]) if match["jitter"] else timedelta(0)
    if jitter >= every:
        raise ValueError(f"{text!r}: the jitter must be shorter than the interval")
    return Schedule(kind="interval", every=every, jitter=jitter)


def _check_cron(expr: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    if len(expr.split()) != 5:
        raise ValueError(f"cron expression {expr!r} must have 5 fields: minute hour day month weekday")
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"cron expression {expr!r}: {exc}") from None


ScheduleSpec = Annotated[
    Schedule,
    BeforeValidator(parse_schedule),
    PlainSerializer(str, return_type=str),
]


_DAILY = re.compile(r"^daily\s+(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)$", re.IGNORECASE)


def parse_daily(text: str | time) -> time:
    """``"daily 08:00"`` -> 08:00; pure."""
    if isinstance(text, time):
        return text
    match = _DAILY.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a daily time; write e.g. 'daily 08:00'")
    return time(int(match["h"]), int(match["m"]))


DailyTime = Annotated[
    time,
    BeforeValidator(parse_daily),
    PlainSerializer(lambda t: f"daily {t:%H:%M}", return_type=str),
]


def check_patterns(patterns: list[str]) -> list[str]:
    """Validate a list of regular expressions from the config; raises ValueError naming the bad one."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    return patterns
