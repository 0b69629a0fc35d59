"""Serving an ASGI app with uvicorn: in a background thread (tests, demo) or in the foreground."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    """A uvicorn server that tells other threads when it is listening."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class ThreadedServer:
    """Run an ASGI app on host:port (0 = any free port) in a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, self.sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2, **options
        )
        self.scheme = "https" if options.get("ssl_certfile") else "http"
        self.server = _Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=f"uvicorn:{self.port}", daemon=True
        )

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        """Start serving; returns the base URL once the server listens."""
        self.thread.start()
        if not self.server.ready.wait(timeout):
            raise RuntimeError(f"the server on {self.base_url} did not start within {timeout:g} s")
        return self.base_url

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | None) -> None:
        self.stop()


def serve_forever(app: Any, host: str, port: int) -> None:
    """Serve in the foreground until interrupted (Ctrl-C)."""
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off")
