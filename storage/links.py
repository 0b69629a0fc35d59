"""Link checks: the per-URL cache of fresh checks, and each account's links run by run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.db import dialect_insert
from storage.models import AccountLink, LinkCheck


def url_hash(url: str) -> str:
    """The key of a URL in both tables; pure."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def cached(
    session: Session, urls: Iterable[str], ok_since: datetime, failed_since: datetime
) -> dict[str, LinkCheck]:
    """Checks still fresh enough to reuse: working links since ``ok_since``, others since ``failed_since``."""
    keys = {url_hash(u): u for u in urls}
    found: dict[str, LinkCheck] = {}
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        rows = session.exec(select(LinkCheck).where(col(LinkCheck.url_hash).in_(key_list[start:start + 500])))
        for row in rows:
            if row.checked_at >= (ok_since if row.status == "ok" else failed_since):
                found[keys[row.url_hash]] = row
    return found


def save_checks(session: Session, checks: Sequence[LinkCheck]) -> None:
    """Store fresh checks, keeping when each URL last worked.

    One upsert per URL (``INSERT … ON CONFLICT DO UPDATE``), not read-then-write: runs of
    different accounts publishing the same link save it at the same time, and a read
    followed by an insert lost that race (a unique-key error lost the run's link results).
    An older check never replaces a newer one.
    """
    insert = dialect_insert(session)
    table = LinkCheck.__table__  # type: ignore[attr-defined]
    for check in checks:
        values = check.model_dump()
        values["last_ok_at"] = check.checked_at if check.status == "ok" else None
        statement = insert(table).values(**values)
        kept = {"url_hash"} if check.status == "ok" else {"url_hash", "last_ok_at"}
        session.execute(statement.on_conflict_do_update(
            index_elements=["url_hash"],
            set_={name: statement.excluded[name] for name in values if name not in kept},
            where=table.c.checked_at <= statement.excluded.checked_at,
        ))
    session.flush()


def update_account(
    session: Session,
    account_id: str,
    run_id: str,
    checks: Mapping[str, LinkCheck],
    sources: Mapping[str, Sequence[str]],
    now: datetime,
    unchecked: Collection[str] = (),
) -> list[AccountLink]:
    """Record this run's result for each of the account's links; count failures in a row.

    A link in ``unchecked`` could not be checked this run for a reason on this side (the
    proxy was down): a link seen before keeps its last verdict and its count.
    """
    existing = {
        row.url_hash: row
        for row in session.exec(select(AccountLink).where(AccountLink.account_id == account_id))
    }
    updated: list[AccountLink] = []
    for url, check in checks.items():
        row = existing.get(check.url_hash)
        if row is None:
            row = AccountLink(account_id=account_id, url_hash=check.url_hash, url=url, status=check.status,
                              first_seen_at=now, last_seen_at=now, last_run_id=run_id, last_checked_at=now)
        row.sources = sorted(set(sources.get(url, ())))
        if url in unchecked and row.id is not None:
            row.last_seen_at, row.last_run_id = now, run_id
            session.add(row)
            updated.append(row)
            continue
        row.consecutive_failures = row.consecutive_failures + 1 if check.status == "broken" else 0
        row.status, row.error_class, row.message = check.status, check.error_class, check.message
        row.http_status = check.http_status
        row.last_seen_at, row.last_run_id, row.last_checked_at = now, run_id, check.checked_at
        if check.status == "ok":
            row.last_ok_at = check.checked_at
        elif check.last_ok_at is not None and (row.last_ok_at is None or check.last_ok_at > row.last_ok_at):
            row.last_ok_at = check.last_ok_at
        session.add(row)
        updated.append(row)
    session.flush()
    return updated


def report(session: Session, account_id: str | None = None, broken_only: bool = False) -> list[AccountLink]:
    """Every account's links (or one account's), broken first, then by account and URL."""
    stmt = select(AccountLink)
    if account_id is not None:
        stmt = stmt.where(AccountLink.account_id == account_id)
    if broken_only:
        stmt = stmt.where(AccountLink.status == "broken")
    rows = list(session.exec(stmt.order_by(col(AccountLink.account_id), col(AccountLink.url))))
    return sorted(rows, key=lambda r: (r.status != "broken", r.account_id, r.url))


def checks_for(session: Session, urls: Iterable[str]) -> dict[str, LinkCheck]:
    """The latest check of each URL, whatever its age."""
    keys = {url_hash(u): u for u in urls}
    rows = session.exec(select(LinkCheck).where(col(LinkCheck.url_hash).in_(list(keys))))
    return {keys[r.url_hash]: r for r in rows}


def mark_unpublished(
    session: Session, account_id: str, published: Iterable[str], still_there: Callable[[AccountLink], bool],
    run_id: str,
) -> list[AccountLink]:
    """Links of the account no longer published (``still_there`` says False): marked ``removed``."""
    keep = {url_hash(u) for u in published}
    rows = session.exec(select(AccountLink).where(AccountLink.account_id == account_id,
                                                  AccountLink.status != "removed"))
    removed = []
    for row in rows:
        if row.url_hash in keep or still_there(row):
            continue
        row.status, row.message, row.consecutive_failures = "removed", f"no longer published (run {run_id})", 0
        session.add(row)
        removed.append(row)
    session.flush()
    return removed
