"""Text from pages made safe to print: no terminal escape sequences, no bidi tricks."""

from __future__ import annotations

import re

#: C0 controls except tab and newline, DEL, zero-width and bidirectional override characters
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters (an ESC would let a hostile page rewrite an
    administrator's terminal or a log line); tabs and newlines stay; pure."""
    return _CONTROL.sub("", text)
