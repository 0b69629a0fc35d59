"""One account is never captured twice at once, even by two processes (daemon and CLI)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import CaptureError, StorageError


class AccountBusy(CaptureError):
    """Another run of the same account is in progress."""

    code = "busy"


@contextmanager
def account_lock(data_dir: Path, account_id: str) -> Iterator[None]:
    """Hold the account's lock file for the duration, or raise AccountBusy at once."""
    directory = data_dir / "locks"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd = os.open(directory / f"{account_id}.lock", os.O_RDWR | os.O_CREAT, 0o640)
    except OSError as exc:
        raise StorageError(f"cannot create the lock for {account_id} in {directory}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AccountBusy(f"{account_id} is already being captured by another run") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock; a killed process releases it too
