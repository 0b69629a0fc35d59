"""The long-lived objects a command needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.errors import DiskFull, StorageError
from agent.evidence.signing import Signer, load_signer
from agent.keys import session_key
from agent.sessions import SessionStore
from agent.settings import Settings
from agent.units import format_size
from storage.archive import Archive
from storage.blobs import BlobStore
from storage.db import Database
from storage.space import Space, free_space, shortage


@dataclass
class Services:
    settings: Settings
    db: Database
    archive: Archive
    sessions: SessionStore
    #: the installation's secret key (encrypts sessions, keys credential fingerprints)
    key: bytes
    #: the Ed25519 key that signs manifests
    signer: Signer

    def close(self) -> None:
        self.db.dispose()

    def storage_paths(self) -> list[Path]:
        """Where evidence is written: data_dir, and the SQLite file's folder when it is elsewhere."""
        paths = [self.settings.agent.data_dir]
        if (db_file := self.db.file_path()) is not None:
            paths.append(db_file.parent)
        return paths

    def low_space(self) -> Space | None:
        """The fullest place evidence is written, if it has less than [agent] min_free_space free."""
        minimum = self.settings.agent.min_free_space
        return shortage(free_space(self.storage_paths()), minimum) if minimum else None

    def ensure_space(self) -> None:
        """Refuse a run (DiskFull) while a place evidence is written is short of space."""
        if (short := self.low_space()) is not None:
            raise DiskFull(shortage_message(short, self.settings.agent.min_free_space))


def shortage_message(space: Space, minimum: int) -> str:
    """What the administrator reads when a run is refused for want of space; pure."""
    return (f"only {format_size(space.free)} free under {space.path}, less than [agent] min_free_space "
            f"({format_size(minimum)}): no capture is taken until disk space is freed")


def open_services(settings: Settings) -> Services:
    """Open the data directory, database, blob store and session store."""
    data_dir = settings.agent.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as exc:
        raise StorageError(f"cannot create the data directory {data_dir}: {exc.strerror}") from exc
    db = Database(settings.agent.sqlalchemy_url())
    db.create_schema()
    archive = Archive(db, BlobStore(data_dir / "blobs"))
    configured = settings.agent.session_key
    key = session_key(data_dir, configured.get_secret_value() if configured else None)
    return Services(settings, db, archive, SessionStore(data_dir / "sessions", key), key, load_signer(data_dir))
