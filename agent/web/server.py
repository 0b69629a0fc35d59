"""uvicorn inside the daemon's own event loop (the daemon, not uvicorn, owns the signals)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM/SIGINT/SIGHUP to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def embedded_server(app: Any, host: str, port: int) -> EmbeddedServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=5)
    return EmbeddedServer(config)
