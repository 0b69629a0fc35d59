"""How long each phase of a capture run took: for the run's log line, `check --json` and the metrics.

An administrator whose runs take too long reads here whether it is the sign-in, a page, the
link check or the archive; the benchmark reads the same figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

#: The phases of a run, in the order they happen. A run may skip some: no visitor view on a
#: web site, no WARC when [evidence] warc = false, no link check when [links] is off.
PHASES = ("sign-in", "owner view", "visitor view", "WARC", "links", "recording")


class PhaseClock:
    """Wall time per phase of one run; a phase lasts until the next one begins or ``stop``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seconds: dict[str, float] = {}
        self._running: tuple[str, float] | None = None

    def begin(self, name: str) -> None:
        """End the running phase, if any, and start ``name`` (time spent in it again adds up)."""
        if name not in PHASES:
            raise ValueError(f"unknown run phase {name!r}")
        self.stop()
        self._running = (name, self._clock())

    def stop(self) -> None:
        """End the running phase."""
        if self._running is not None:
            name, start = self._running
            self._seconds[name] = self._seconds.get(name, 0.0) + self._clock() - start
            self._running = None

    def seconds(self) -> dict[str, float]:
        """Seconds per finished phase, in PHASES order, to the millisecond."""
        return {name: round(self._seconds[name], 3) for name in PHASES if name in self._seconds}


def describe(total: float, seconds: Mapping[str, float]) -> str:
    """``"in 4.3 s (sign-in 1.3 s, owner view 2.1 s, …)"`` for a log line; pure."""
    parts = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
    return f"in {total:.1f} s" + (f" ({parts})" if parts else "")
