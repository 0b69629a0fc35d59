"""The one place Playwright's exceptions become civicwatch's.

Adapters wrap each browser step in :func:`step`; the step's description names what was
being done, so an IT administrator reads "opening http://…/p/parks: connection refused",
not a Playwright call log.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from agent.errors import CaptureError, CaptureTimeout, CivicwatchError, SiteUnavailable

_NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
_NET_REASONS = {
    "ERR_CONNECTION_REFUSED": "connection refused",
    "ERR_CONNECTION_RESET": "connection reset",
    "ERR_CONNECTION_CLOSED": "connection closed by the server",
    "ERR_EMPTY_RESPONSE": "the server closed the connection without answering",
    "ERR_NAME_NOT_RESOLVED": "host name not found (DNS)",
    "ERR_ADDRESS_UNREACHABLE": "address unreachable",
    "ERR_INTERNET_DISCONNECTED": "no network",
    "ERR_TIMED_OUT": "connection timed out",
    "ERR_CERT_AUTHORITY_INVALID": "TLS certificate not trusted",
    "ERR_CERT_COMMON_NAME_INVALID": "TLS certificate is for another host",
    "ERR_CERT_DATE_INVALID": "TLS certificate expired or not yet valid",
    "ERR_BLOCKED_BY_CLIENT": "blocked by civicwatch's host allow-list",
    "ERR_ABORTED": "navigation aborted",
    "ERR_TOO_MANY_REDIRECTS": "too many redirects",
    "ERR_UNSAFE_PORT": "Chromium refuses this port as unsafe",
    "ERR_HTTP2_PROTOCOL_ERROR": "HTTP/2 protocol error",
    "ERR_SSL_PROTOCOL_ERROR": "TLS handshake failed",
}


def first_line(message: str, limit: int = 200) -> str:
    """The first line of a foreign error message, without Playwright's call log."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line[:limit]


def translate(exc: BaseException, what: str, timeout_ms: int | None = None) -> CivicwatchError:
    """Map a Playwright exception raised while doing ``what`` to our hierarchy; pure."""
    if isinstance(exc, CivicwatchError):
        return exc
    if isinstance(exc, PlaywrightTimeout):
        limit = f" within {timeout_ms / 1000:g} s" if timeout_ms else ""
        return CaptureTimeout(f"{what}: did not finish{limit}")
    text = str(exc)
    net = _NET_ERROR.search(text)
    if net:
        code = net.group(1)
        return SiteUnavailable(f"{what}: {_NET_REASONS.get(code, code)} ({code})")
    if "Target page, context or browser has been closed" in text or "Browser closed" in text:
        return CaptureError(f"{what}: the browser closed unexpectedly")
    return CaptureError(f"{what}: {first_line(text)}")


@asynccontextmanager
async def step(what: str, timeout_ms: int | None = None) -> AsyncIterator[None]:
    """Run one browser step; Playwright errors leave it as civicwatch errors."""
    try:
        yield
    except (PlaywrightError, PlaywrightTimeout) as exc:
        raise translate(exc, what, timeout_ms) from exc


async def waited(awaitable: Awaitable[object], what: str, timeout_ms: int) -> bool:
    """Await a Playwright wait whose timeout is an expected outcome: False when it timed out."""
    try:
        await awaitable
    except PlaywrightTimeout:
        return False
    except PlaywrightError as exc:
        raise translate(exc, what, timeout_ms) from exc
    return True
