"""agent.timings: the wall time per phase of a run, with a clock the test controls."""

from __future__ import annotations

import pytest

from agent.timings import PHASES, PhaseClock, describe


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_phase_lasts_until_the_next_begins_and_repeats_add_up() -> None:
    fake = FakeClock()
    clock = PhaseClock(fake)
    clock.begin("owner view")
    fake.now += 2.5
    clock.begin("sign-in")
    fake.now += 1.0
    clock.begin("owner view")
    fake.now += 0.25
    clock.stop()
    fake.now += 9.0  # nothing runs: not counted
    assert clock.seconds() == {"sign-in": 1.0, "owner view": 2.75}
    assert list(clock.seconds()) == [p for p in PHASES if p in ("sign-in", "owner view")]


def test_a_running_phase_is_not_reported_until_it_ends() -> None:
    fake = FakeClock()
    clock = PhaseClock(fake)
    clock.begin("links")
    fake.now += 3
    assert clock.seconds() == {}
    clock.stop()
    clock.stop()  # a second stop changes nothing
    assert clock.seconds() == {"links": 3.0}


def test_an_unknown_phase_is_a_bug_named_at_once() -> None:
    with pytest.raises(ValueError, match="unknown run phase 'uploading'"):
        PhaseClock().begin("uploading")


def test_the_log_line_gives_the_total_then_each_phase() -> None:
    assert describe(4.26, {"sign-in": 1.31, "owner view": 2.04}) == "in 4.3 s (sign-in 1.3 s, owner view 2.0 s)"
    assert describe(0.04, {}) == "in 0.0 s"
