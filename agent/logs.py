"""Logging set-up: text or JSON lines, with run and account ids, never secrets."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

from agent.printable import printable
from agent.redact import redact

#: attributes a log call may attach with ``extra={...}`` that are worth printing
CONTEXT_FIELDS = ("run_id", "account", "url", "kind", "status")


class TextFormatter(logging.Formatter):
    """``2026-11-20T10:00:00Z INFO  agent.runner [run=… account=parks] message``."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ctx = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if hasattr(record, k))
        line = f"{when} {record.levelname:<7} {record.name} " + (f"[{ctx}] " if ctx else "")
        line += printable(record.getMessage())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki/ELK."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Send civicwatch's logs to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("asyncio", "urllib3", "httpx", "httpcore", "apscheduler.executors", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Apprise's log is captured per delivery and summarised by the sender (agent/alerts).
    logging.getLogger("apprise").propagate = False
