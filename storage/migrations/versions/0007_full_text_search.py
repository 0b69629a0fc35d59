"""full-text search over posts and comments

SQLite: FTS5 external-content tables kept in step by triggers.
PostgreSQL: GIN indexes on to_tsvector('simple', …).

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("post", "comment")


def _sqlite_up(table: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5(text, author, content='{table}', "
               f"content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    op.execute(f"INSERT INTO {table}_fts(rowid, text, author) SELECT id, text, author FROM {table}")
    op.execute(f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {table}_fts(rowid, text, author) VALUES (new.id, new.text, new.author); END")
    op.execute(f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, text, author) VALUES ('delete', old.id, old.text, old.author); END")
    op.execute(f"CREATE TRIGGER {table}_fts_update AFTER UPDATE OF text, author ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, text, author) VALUES ('delete', old.id, old.text, old.author); "
               f"INSERT INTO {table}_fts(rowid, text, author) VALUES (new.id, new.text, new.author); END")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            _sqlite_up(table)
        else:
            op.execute(f"CREATE INDEX ix_{table}_fts ON {table} USING gin "
                       f"(to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(author, '')))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for suffix in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        else:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_fts")
