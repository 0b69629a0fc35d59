"""full-text search with stemming: words match their stems, prefixes only when asked

SQLite: the FTS5 tables are rebuilt with the Porter tokenizer (the triggers from 0007 keep
them in step unchanged: they name the tables, not the tokenizer).
PostgreSQL: the GIN indexes use the 'english' configuration instead of 'simple'.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("post", "comment")
STEMMED = "porter unicode61 remove_diacritics 2"
UNSTEMMED = "unicode61 remove_diacritics 2"


def _rebuild(tokenizer: str, config: str) -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TABLE {table}_fts")
            op.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5(text, author, content='{table}', "
                       f"content_rowid='id', tokenize='{tokenizer}')")
            op.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
        else:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_fts")
            op.execute(f"CREATE INDEX ix_{table}_fts ON {table} USING gin "
                       f"(to_tsvector('{config}', coalesce(text, '') || ' ' || coalesce(author, '')))")


def upgrade() -> None:
    _rebuild(STEMMED, "english")


def downgrade() -> None:
    _rebuild(UNSTEMMED, "simple")
