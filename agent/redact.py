"""A last line of defence: resolved secrets are masked in every log line and error text.

Code never logs secrets on purpose; this catches the accidental case (a site echoing a
password in an error message, a URL with credentials in a stack trace).
"""

from __future__ import annotations

import threading
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_LENGTH = 4
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()


def remember(secret: str) -> None:
    """Mask this secret (and its URL-encoded form) from now on."""
    global _secrets
    if len(secret) < _MIN_LENGTH:
        return
    with _lock:
        _secrets = _secrets | {secret, quote(secret, safe=""), quote_plus(secret)}


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text

