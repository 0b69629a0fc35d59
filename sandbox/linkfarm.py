"""A link farm: every kind of link a city publishes, good and broken, on loopback.

A plain ASGI app (no framework, so the farm is never the bottleneck of a benchmark).
The path says what a link does; the farm also knows the right answer for each kind
(:data:`EXPECTED`), which tests and ``bench/links.py`` score checkers against.

=================  ======================================================  ==========
path               behaviour                                               truth
=================  ======================================================  ==========
/ok/N              200 HTML page with ``<h2 id="section">``                ok
/doc/N.pdf         200 application/pdf                                     ok
/redirect/N        301 to /ok/N                                            ok
/chain/N           302 to /redirect/N (two hops)                           ok
/nohead/N          405 to HEAD, 200 to GET                                 ok
/headlie/N         404 to HEAD, 200 to GET (a server that lies to HEAD)    ok
/slow/N            200 after ``slow_s`` seconds                            ok
/flaky/N           503 on the first request, then 200                      ok
/limited/N         429 with Retry-After: 1 when asked too fast, else 200   ok
/missing/N         404                                                     http_status
/gone/N            410                                                     http_status
/error/N           500                                                     http_status
/loop/N            302 to /loop-b/N, which redirects back                  redirect_loop
/soft404/N         200 page titled "Page not found"                        soft_404
/nowhere/N         (any unknown path) 200 copy of the home page            soft_404
/hang/N            never answers within the checker's timeout              timeout
/away/N            302 to the same farm port on 127.0.0.2 (another range)  depends
=================  ======================================================  ==========

Hosts listed in ``limited_hosts`` rate-limit every path the way /limited/ does.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: what a correct checker reports for each kind of farm link
EXPECTED: dict[str, str] = {
    "ok": "ok", "doc": "ok", "redirect": "ok", "chain": "ok", "nohead": "ok", "headlie": "ok",
    "slow": "ok", "flaky": "ok", "limited": "ok", "missing": "http_status", "gone": "http_status",
    "error": "http_status", "loop": "redirect_loop", "soft404": "soft_404", "nowhere": "soft_404",
    "hang": "timeout",
}

_HOME = (b"<!doctype html><html><head><title>City of Springfield</title></head><body>"
         b"<h1>Welcome to Springfield</h1><p>" + b"Services, news and events for residents. " * 20
         + b"</p></body></html>")


@dataclass
class LinkFarm:
    """The farm's behaviour and what it has been asked."""

    slow_s: float = 1.0
    hang_s: float = 60.0
    #: requests per second a rate-limited host accepts before answering 429
    limit_per_s: int = 20
    limited_hosts: frozenset[str] = frozenset()
    #: served at /links.html: a page listing links, for checkers that start from a page
    index: bytes = b""
    hits: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    def count(self, path: str, method: str | None = None) -> int:
        """Requests seen for a path (all hosts), optionally one method only."""
        return sum(n for (_, m, p), n in self.hits.items() if p == path and method in (None, m))

    def _rate_limited(self, host: str) -> bool:
        second = int(time.monotonic())
        window, used = self._windows.get(host, (second, 0))
        if window != second:
            window, used = second, 0
        self._windows[host] = (window, used + 1)
        return used + 1 > self.limit_per_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        host = scope["server"][0] if scope.get("server") else ""
        method, path = scope["method"], scope["path"]
        self.hits[(host, method, path)] += 1
        head = method == "HEAD"
        parts = path.strip("/").split("/")
        kind = parts[0] if len(parts) == 2 else ""
        n = parts[1] if len(parts) == 2 else ""

        async def reply(status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8",
                        headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
            # "LinkChecker" lets LinkChecker lift its 10 requests/s per host throttle (its documented opt-in)
            all_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                           (b"linkchecker", b"allow"), *headers]
            await send({"type": "http.response.start", "status": status, "headers": all_headers})
            await send({"type": "http.response.body", "body": b"" if head else body})

        def page(title: str) -> bytes:
            return (f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
                    f"<p>Information from the City of Springfield about {title.lower()}.</p>"
                    f"<h2 id=\"section\">Details</h2><p>Open Monday to Friday.</p></body></html>").encode()

        def moved(status: int, to: str) -> Awaitable[None]:
            return reply(status, headers=((b"location", to.encode()),))

        if (host in self.limited_hosts or kind == "limited") and self._rate_limited(host):
            await reply(429, b"slow down", "text/plain", ((b"retry-after", b"1"),))
            return
        if path == "/":
            await reply(200, _HOME)
        elif path == "/links.html" and self.index:
            await reply(200, self.index)
        elif kind == "ok" or kind == "limited":
            await reply(200, page(f"Page {n}"))
        elif kind == "doc":
            await reply(200, b"%PDF-1.4\n% civicwatch farm\n", "application/pdf")
        elif kind == "redirect":
            await moved(301, f"/ok/{n}")
        elif kind == "chain":
            await moved(302, f"/redirect/{n}")
        elif kind == "nohead":
            await (reply(405, headers=((b"allow", b"GET"),)) if head else reply(200, page(f"Form {n}")))
        elif kind == "headlie":
            await (reply(404) if head else reply(200, page(f"Agenda {n}")))
        elif kind == "slow":
            await asyncio.sleep(self.slow_s)
            await reply(200, page(f"Slow page {n}"))
        elif kind == "flaky":
            first = self.hits[(host, "GET", path)] + self.hits[(host, "HEAD", path)] == 1
            await (reply(503, b"busy", "text/plain") if first else reply(200, page(f"Flaky {n}")))
        elif kind == "missing":
            await reply(404, page("Not Found"))
        elif kind == "gone":
            await reply(410, page("Gone"))
        elif kind == "error":
            await reply(500, b"Internal Server Error", "text/plain")
        elif kind == "loop":
            await moved(302, f"/loop-b/{n}")
        elif kind == "loop-b":
            await moved(302, f"/loop/{n}")
        elif kind == "away":
            port = scope["server"][1] if scope.get("server") else 80
            await moved(302, f"http://127.0.0.2:{port}/ok/{n}")
        elif kind == "soft404":
            await reply(200, page("Page not found"))
        elif kind == "hang":
            await asyncio.sleep(self.hang_s)
            await reply(200, page("Too late"))
        else:  # like many city CMSs: an unknown address shows the home page with 200
            await reply(200, _HOME)
