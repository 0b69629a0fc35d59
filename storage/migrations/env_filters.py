"""Names Alembic's comparison leaves alone: the full-text search objects of migration 0007."""

from __future__ import annotations

FTS_SUFFIXES = ("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config", "_fts_content")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name and (name.endswith(FTS_SUFFIXES) or name in ("ix_post_fts", "ix_comment_fts")))
