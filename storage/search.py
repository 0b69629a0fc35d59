"""Full-text search over posts and comments: SQLite FTS5, or PostgreSQL full-text search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from storage.db import Database

_TERM = re.compile(r"(\w+)(\*?)", re.UNICODE)
TEXT_SEARCH_CONFIG = "english"  # PostgreSQL; the same as the index of migration 0009


@dataclass(frozen=True)
class Query:
    words: str = ""
    account: str | None = None
    accounts: tuple[str, ...] | None = None  # e.g. a department's accounts
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None  # post comment
    #: only items that are the subject of a finding of this kind (e.g. "personal_data")
    finding_kind: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class Hit:
    item_type: str
    id: int
    account_id: str
    platform_id: str
    author: str
    text: str
    posted_at: datetime | None
    last_seen_run: str
    gone: bool


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool  # the clerk wrote ``word*``


def terms(words: str) -> list[Term]:
    """The clerk's words: letters and digits, each optionally ending in ``*``; pure.

    Everything else (quotes, operators, punctuation) separates words, so no input can
    reach the database as query syntax.
    """
    return [Term(word, star == "*") for word, star in _TERM.findall(words)]


def fts5_query(words: str) -> str:
    """User text as a safe FTS5 query: every word must appear; pure.

    The index is Porter-stemmed, so "permits" also finds "permit" and "permitted". A word
    is a prefix only where the clerk wrote ``*``: exact stems let FTS5 stop at the page
    size, a prefix makes it gather every matching entry first (docs/performance.md).
    """
    return " ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms(words))


def tsquery(words: str) -> str:
    """The same query for PostgreSQL's ``to_tsquery``: ``&`` between words, ``:*`` for prefixes; pure."""
    return " & ".join(t.word + (":*" if t.prefix else "") for t in terms(words))


def _filters(q: Query, table: str, params: dict[str, Any]) -> str:
    clauses = []
    if q.account:
        clauses.append(f"{table}.account_id = :account")
        params["account"] = q.account
    if q.accounts is not None:
        names = [f":acc{i}" for i in range(len(q.accounts))] or ["''"]
        clauses.append(f"{table}.account_id IN ({', '.join(names)})")
        params.update({f"acc{i}": a for i, a in enumerate(q.accounts)})
    if q.author:
        clauses.append(f"lower({table}.author) LIKE :author")
        params["author"] = f"%{q.author.lower()}%"
    if q.since:
        clauses.append(f"coalesce({table}.posted_at, {table}.first_seen_at) >= :since")
        params["since"] = q.since
    if q.until:
        clauses.append(f"coalesce({table}.posted_at, {table}.first_seen_at) < :until")
        params["until"] = q.until
    if q.finding_kind:  # in the query, so the limit counts only flagged items
        clauses.append(f"EXISTS (SELECT 1 FROM finding WHERE finding.kind = :finding_kind "
                       f"AND finding.account_id = {table}.account_id "
                       f"AND finding.subject = '{table}:' || {table}.platform_id)")
        params["finding_kind"] = q.finding_kind
    return "".join(f" AND {c}" for c in clauses)


def search(db: Database, q: Query) -> list[Hit]:
    """Posts and comments matching the words and filters, newest first."""
    hits: list[Hit] = []
    tables = [t for t in ("post", "comment") if q.kind in (None, t)]
    has_words = bool(q.words.strip())
    words = fts5_query(q.words) if db.is_sqlite else tsquery(q.words)  # the clerk's words, parsed once
    if has_words and not words:
        return hits  # only punctuation: nothing can match
    with db.engine.connect() as conn:
        for table in tables:
            params: dict[str, Any] = {"limit": q.limit, "words": words}
            if db.is_sqlite:
                source = f"{table}_fts JOIN {table} ON {table}.id = {table}_fts.rowid"
                match = f"{table}_fts MATCH :words" if has_words else "1=1"
            else:
                source = table
                config = TEXT_SEARCH_CONFIG
                match = (f"to_tsvector('{config}', coalesce(text, '') || ' ' || coalesce(author, '')) "
                         f"@@ to_tsquery('{config}', :words)") if has_words else "1=1"
            # SQLite with words: newest archived first (FTS5 walks its index in rowid order and
            # stops at the limit; ordering by posting time would sort every match: 5x slower at 1M).
            order = (f"{table}_fts.rowid DESC" if db.is_sqlite and has_words
                     else f"coalesce({table}.posted_at, {table}.first_seen_at) DESC")
            sql = (f"SELECT {table}.id, {table}.account_id, {table}.platform_id, {table}.author, {table}.text, "
                   f"{table}.posted_at, {table}.last_seen_run, {table}.gone_at FROM {source} "
                   f"WHERE {match}{_filters(q, table, params)} ORDER BY {order} LIMIT :limit")
            for row in conn.execute(text(sql), params):
                hits.append(Hit(table, row.id, row.account_id, row.platform_id, row.author, row.text,
                                _time(row.posted_at), row.last_seen_run, row.gone_at is not None))
    hits.sort(key=lambda h: h.posted_at.timestamp() if h.posted_at else 0, reverse=True)
    return hits[: q.limit]


def _time(value: Any) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
