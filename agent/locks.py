"""One account is never captured twice at once, even by two processes (daemon and CLI);
one daemon per data directory."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import CaptureError, CivicwatchError, StorageError


class AccountBusy(CaptureError):
    """Another run of the same account is in progress."""

    code = "busy"


class AlreadyRunning(CivicwatchError):
    """Another daemon already works on this data directory."""

    code = "already_running"


def _open_lock(data_dir: Path, name: str) -> int:
    directory = data_dir / "locks"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        return os.open(directory / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o640)
    except OSError as exc:
        raise StorageError(f"cannot create the lock {name} in {directory}: {exc.strerror}") from exc


@contextmanager
def account_lock(data_dir: Path, account_id: str) -> Iterator[None]:
    """Hold the account's lock file for the duration, or raise AccountBusy at once."""
    fd = _open_lock(data_dir, account_id)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AccountBusy(f"{account_id} is already being captured by another run") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock; a killed process releases it too


def account_busy(data_dir: Path, account_id: str) -> bool:
    """Whether a run of the account is in progress now, in this process or another."""
    try:
        with account_lock(data_dir, account_id):
            return False
    except AccountBusy:
        return True


@contextmanager
def daemon_lock(data_dir: Path) -> Iterator[None]:
    """Be the only daemon on ``data_dir`` for the duration, or raise AlreadyRunning naming the other."""
    fd = _open_lock(data_dir, "daemon")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise AlreadyRunning(
                f"another civicwatch daemon (pid {other}) is already running on {data_dir}; stop it first "
                "(systemctl stop civicwatch), or give this one its own [agent] data_dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
