"""civicwatch: the agent that wires settings, schedule, runs, detection, alerts, CLI and web."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("civicwatch")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
