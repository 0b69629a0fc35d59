"""The evidence database: SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from agent.errors import StorageError

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the portal read while a capture writes; FULL makes a commit survive power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An engine plus short-lived sessions. One per process."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StorageError("the database URL is not valid (see [agent] database_url)") from None
        self.url = parsed
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs = {"connect_args": {"check_same_thread": False, "timeout": 30}, "poolclass": NullPool}
        self.engine: Engine = create_engine(parsed, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def file_path(self) -> Path | None:
        """The SQLite database file; None for PostgreSQL or an in-memory database."""
        name = self.url.database
        return Path(name) if self.is_sqlite and name and name != ":memory:" else None

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return self.url.render_as_string(hide_password=True)

    def _alembic(self, connection: Any) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return cfg

    def create_schema(self, revision: str = "head") -> None:
        """Bring the schema to the current version (or ``revision``), creating it in an empty database."""
        try:
            with self.engine.begin() as connection:
                command.upgrade(self._alembic(connection), revision)
        except OperationalError as exc:
            raise StorageError(f"cannot open the database {self.describe()}: {exc.orig}") from exc

    def schema_version(self) -> str | None:
        """The applied migration revision, or None for an empty database."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head_version() -> str | None:
        """The newest migration revision this civicwatch knows."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(cfg).get_current_head()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except SQLAlchemyError as exc:
                session.rollback()
                raise StorageError(f"database error: {exc.__class__.__name__}: {_short(exc)}") from exc
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def dialect_insert(session: Session) -> Callable[[Any], Any]:
    """The ``insert`` of the session's database that can say ``ON CONFLICT`` (SQLite, PostgreSQL).

    For rows that concurrent runs may write at the same moment (a blob, a link's check):
    one statement instead of read-then-insert, which loses that race.
    """
    if session.get_bind().dialect.name == "sqlite":
        return sqlite_insert
    return postgresql_insert


def _short(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).splitlines()[0][:300]
