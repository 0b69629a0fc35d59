"""sd_notify for Type=notify units: READY, STOPPING, WATCHDOG, STATUS. No-op elsewhere."""

from __future__ import annotations

import logging
import socket

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, socket_path: str | None) -> None:
        self.address = socket_path
        if socket_path and socket_path.startswith("@"):
            self.address = "\0" + socket_path[1:]  # an abstract socket

    def send(self, *fields: str) -> None:
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(fields).encode())
        except OSError as exc:
            log.warning("cannot notify systemd: %s", exc.strerror)

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")
