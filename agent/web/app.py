"""The web app: the clerk portal, /healthz and /metrics. Served by the daemon or `civicwatch serve`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from agent.metrics import Metrics
from agent.services import Services
from agent.web import pages, records
from agent.web.context import Portal

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: pages use no script at all; captured content is never framed, never scripted
PAGE_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")


def create_app(
    services: Callable[[], Services],
    health: Callable[[], dict[str, Any]] | None = None,
    metrics: Metrics | None = None,
) -> FastAPI:
    app = FastAPI(title="civicwatch", docs_url=None, redoc_url=None, openapi_url=None)
    portal = Portal(services)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        if health is None:
            return JSONResponse({"status": "ok", "daemon": False, "detail": "portal only (civicwatch serve)"})
        report = health()
        return JSONResponse(report, status_code=503 if report["status"] == "failing" else 200)

    @app.get("/metrics")
    def prometheus() -> Response:
        if metrics is None:
            return Response("metrics are served by the daemon (civicwatch run)\n", status_code=404)
        return Response(metrics.render(), media_type=PROMETHEUS_TYPE)

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    pages.install(app, portal)
    records.install(app, portal)
    return app
