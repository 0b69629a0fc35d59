"""Log lines: what a hostile page put in a message cannot rewrite the administrator's terminal."""

from __future__ import annotations

import json
import logging

from agent.logs import JsonFormatter, TextFormatter


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("agent.runner", logging.WARNING, __file__, 1, message, args, None)


def test_text_lines_lose_control_characters_and_keep_the_words() -> None:
    line = TextFormatter().format(record("capture warning: %s", "page /x: \x1b[2J\x1b]0;owned\x07\u202eevil"))
    assert line.endswith("WARNING agent.runner capture warning: page /x: [2J]0;ownedevil")
    assert not any(c in line for c in "\x1b\x07\u202e")


def test_json_lines_keep_the_message_escaped() -> None:
    line = JsonFormatter().format(record("capture warning: %s", "\x1b[2J"))
    assert "\x1b" not in line and json.loads(line)["message"] == "capture warning: \x1b[2J"
