"""Durations and schedules as written in civicwatch.toml."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.units import format_duration, format_size, parse_duration, parse_schedule, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("30m", 1800), ("4h", 14400), ("1h30m", 5400), ("7d", 604800), ("3y", 3 * 365 * 86400),
     ("250ms", 0.25), (90, 90), ("1.5h", 5400)],
)
def test_durations_parse(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "10", "5 minutes", "-5m", "1h-30m"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_durations_print_back_compactly() -> None:
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(timedelta(milliseconds=250)) == "250ms"


def test_interval_schedule_with_jitter() -> None:
    schedule = parse_schedule("every 30m jitter 2m")
    assert schedule.kind == "interval"
    assert schedule.every == timedelta(minutes=30) and schedule.jitter == timedelta(minutes=2)
    assert str(schedule) == "every 30m jitter 2m"


def test_cron_schedule_is_validated() -> None:
    assert parse_schedule("cron: 0 */2 * * *").cron == "0 */2 * * *"
    with pytest.raises(ValueError, match="5 fields"):
        parse_schedule("cron: 0 */2 * *")
    with pytest.raises(ValueError, match="cron expression"):
        parse_schedule("cron: 99 * * * *")


@pytest.mark.parametrize("text", ["hourly", "every 30s", "every 10m jitter 10m"])
def test_bad_schedules_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1 GiB", 1024**3), ("500MB", 500 * 1000**2), ("100 mib", 100 * 1024**2), ("1.5 KiB", 1536), ("0", 0),
     (4096, 4096), ("2 tb", 2 * 1000**4)],
)
def test_sizes_parse_in_decimal_and_binary_units(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "1 parsec", "-1 GiB", "1 GiB free"])
def test_bad_sizes_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_sizes_print_in_binary_units() -> None:
    assert [format_size(n) for n in (0, 1023, 1536, 5 * 1024**3, 3 * 1024**4)] == [
        "0 bytes", "1023 bytes", "1.5 KiB", "5.0 GiB", "3.0 TiB"]
