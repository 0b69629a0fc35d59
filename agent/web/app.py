"""The web app the daemon serves: /healthz and /metrics (the portal mounts its routes here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from agent.metrics import Metrics

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def create_app(health: Callable[[], dict[str, Any]], metrics: Metrics | None) -> FastAPI:
    app = FastAPI(title="civicwatch", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        report = health()
        return JSONResponse(report, status_code=503 if report["status"] == "failing" else 200)

    @app.get("/metrics")
    def prometheus() -> Response:
        if metrics is None:
            return Response("metrics are served by the daemon (civicwatch run)\n", status_code=404)
        return Response(metrics.render(), media_type=PROMETHEUS_TYPE)

    return app
