"""Saved browser sessions (cookies, local storage), encrypted at rest with Fernet.

A saved session lets the next run skip the login; it is as good as a password, so it
is never written in clear text and never enters the database.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from agent.errors import StorageError

log = logging.getLogger(__name__)


class SessionStore:
    """One encrypted file per account under ``data_dir/sessions``."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self.fernet = Fernet(key)
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(f"cannot create the session directory {directory}: {exc.strerror}") from exc

    def _path(self, account_id: str) -> Path:
        return self.directory / f"{account_id}.session"

    def load(self, account_id: str) -> dict[str, Any] | None:
        """The saved session, or None when there is none or it cannot be decrypted."""
        path = self._path(account_id)
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("saved session of %s unreadable (%s); signing in again", account_id, exc.strerror)
            return None
        try:
            state: dict[str, Any] = json.loads(self.fernet.decrypt(token))
        except (InvalidToken, ValueError):
            log.warning("saved session of %s cannot be decrypted (key changed?); signing in again", account_id)
            self.forget(account_id)
            return None
        return state

    def save(self, account_id: str, state: dict[str, Any]) -> None:
        """Encrypt and write atomically, readable by this user only."""
        path = self._path(account_id)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        token = self.fernet.encrypt(json.dumps(state).encode())
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(token)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StorageError(f"cannot save the session of {account_id}: {exc.strerror}") from exc

    def forget(self, account_id: str) -> None:
        """Delete a saved session (after a refused login, or on request)."""
        self._path(account_id).unlink(missing_ok=True)
