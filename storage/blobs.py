"""The content-addressed blob store: every artifact's bytes, named by their sha256.

Writes are atomic and durable: temp file, fsync, rename, fsync the directory. Only then
does the caller write the database row, so no row ever points at a missing file. Files
are stored byte for byte as captured, so ``sha256sum`` on a blob gives its name.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from agent.errors import IntegrityError, StorageError

_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    #: False when identical bytes were already stored (content addressing made it free)
    created: bool


class BlobStore:
    """Blobs under ``root/ab/cd/abcd…``; temp files under ``root/tmp``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        try:
            self.tmp.mkdir(parents=True, exist_ok=True, mode=0o750)
        except OSError as exc:
            raise StorageError(f"cannot create the blob store at {root}: {exc.strerror}") from exc

    def path(self, sha256: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StorageError(f"not a sha256 hex digest: {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> StoredBlob:
        """Store bytes durably; identical bytes are stored once."""
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path(sha256)
        if final.exists():
            return StoredBlob(sha256, len(data), created=False)
        try:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            temp = self.tmp / f"{_TMP_PREFIX}{sha256[:16]}-{secrets.token_hex(6)}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, final)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            _fsync_dir(final.parent)
        except OSError as exc:
            raise StorageError(f"cannot write blob {sha256[:12]}… under {self.root}: {exc.strerror}") from exc
        return StoredBlob(sha256, len(data), created=True)

    def get(self, sha256: str, *, verify: bool = True) -> bytes:
        """The blob's bytes; with ``verify`` an altered file raises IntegrityError."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise IntegrityError(f"blob {sha256} is missing from {self.root}") from None
        except OSError as exc:
            raise StorageError(f"cannot read blob {sha256}: {exc.strerror}") from exc
        if verify and hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"blob {sha256} does not match its hash (altered or corrupted)")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def check(self, sha256: str) -> str | None:
        """None when the blob is present and intact, else what is wrong with it."""
        path = self.path(sha256)
        if not path.exists():
            return "missing"
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return None if digest.hexdigest() == sha256 else "content does not match its sha256"

    def remove(self, sha256: str) -> bool:
        """Delete a blob (the caller has checked nothing references it)."""
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        return True

    def remove_temp_files(self) -> int:
        """Delete temp files left by a process killed mid-write; returns how many."""
        removed = 0
        for temp in self.tmp.glob(f"{_TMP_PREFIX}*"):
            temp.unlink(missing_ok=True)
            removed += 1
        return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
