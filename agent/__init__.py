"""civicwatch: the agent that wires settings, schedule, runs, detection, alerts, CLI and web."""

from __future__ import annotations

from functools import cache


@cache
def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("civicwatch")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    # ``__version__`` is read from the installed metadata on first use: importing
    # importlib.metadata costs ~25 ms that short commands (``links check``) need not pay.
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
