"""The long-lived objects a command needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import StorageError
from agent.evidence.signing import Signer, load_signer
from agent.keys import session_key
from agent.sessions import SessionStore
from agent.settings import Settings
from storage.archive import Archive
from storage.blobs import BlobStore
from storage.db import Database


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
