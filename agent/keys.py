"""Installation keys kept outside the database, in ``data_dir/keys`` (mode 0600)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from agent.errors import ConfigError, StorageError


def key_dir(data_dir: Path) -> Path:
    path = data_dir / "keys"
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot create the key directory {path}: {exc.strerror}") from exc
    return path


def write_private(path: Path, data: bytes) -> None:
    """Create a file readable only by this user, atomically; never overwrite an existing key."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)  # fails if another process created the key first
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)


def session_key(data_dir: Path, configured: str | None) -> bytes:
    """The Fernet key that encrypts saved browser sessions.

    From ``[agent] session_key`` if set (any text; it is stretched with SHA-256), else a
    random key generated once in ``data_dir/keys/session.key``.
    """
    if configured is not None:
        if len(configured) < 16:
            raise ConfigError("[agent] session_key must be at least 16 characters")
        return base64.urlsafe_b64encode(hashlib.sha256(configured.encode()).digest())
    path = key_dir(data_dir) / "session.key"
    if not path.exists():
        write_private(path, base64.urlsafe_b64encode(secrets.token_bytes(32)))
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        raise StorageError(f"cannot read the session key {path}: {exc.strerror}") from exc
