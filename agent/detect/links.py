"""Which links an account publishes, and which of them are broken enough to report. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from agent.detect.model import AccountPolicy, draft, lower
from flows.base import Snapshot
from flows.linkcheck import DOUBTFUL_CLASSES
from storage.findings import FindingDraft

SUBJECT_LIMIT = 495


class LinkState(Protocol):
    """What the detector reads of an account's link (storage.models.AccountLink satisfies it)."""

    url: str
    url_hash: str
    status: str
    error_class: str | None
    message: str
    http_status: int | None
    consecutive_failures: int
    sources: list[str]
    last_ok_at: datetime | None


def link_subject(url: str) -> str:
    """The finding subject for a link; pure."""
    return "link:" + url[:SUBJECT_LIMIT]


def published_links(snapshot: Snapshot, policy: AccountPolicy, page_comments: bool = True) -> dict[str, list[str]]:
    """Each link the account itself published, with where it appears: posts, the page's comments, the profile.

    Links in visitors' posts and in comments by the public are the public's, not the city's:
    they are judged by the content rules (spam links), not checked here.
    """
    found: dict[str, list[str]] = {}

    def add(urls: Iterable[str], subject: str) -> None:
        for url in urls:
            url = url.strip()
            if url:
                found.setdefault(url, [])
                if subject not in found[url]:
                    found[url].append(subject)

    add(snapshot.profile.links, "profile")
    for post in snapshot.posts:
        if not post.visitor:
            add(post.links, f"post:{post.id}")
        if page_comments:
            for comment in post.comments:
                if policy.is_page(comment.author, snapshot.profile.name):
                    add(comment.links, f"comment:{comment.id}")
    return found


def broken_links(states: Sequence[LinkState], policy: AccountPolicy, failures_before_broken: int) -> list[FindingDraft]:
    """A ``broken_link`` finding for each link that failed in enough consecutive runs."""
    drafts = []
    for state in states:
        if state.status != "broken" or state.consecutive_failures < failures_before_broken:
            continue
        severity = policy.policy.severity_of("broken_link")
        if state.error_class in DOUBTFUL_CLASSES or state.http_status == 429:
            severity = "low"  # a slow or busy server, or a missing anchor, is not a dead link
        elif state.error_class == "invalid":
            severity = lower(severity)  # a mistyped mailto:/tel: link: worth fixing, less urgent
        where = _where(state.sources)
        drafts.append(draft(
            policy, "broken_link", link_subject(state.url),
            f"Broken link {where} of {policy.name}: {state.url} ({state.message})",
            severity=severity,
            key=(state.url_hash,),
            details={
                "url": state.url, "error_class": state.error_class, "message": state.message,
                "http_status": state.http_status, "sources": list(state.sources),
                "failed_runs": state.consecutive_failures,
                "last_ok_at": state.last_ok_at.isoformat() if state.last_ok_at else None,
            },
        ))
    return drafts


def _where(sources: Sequence[str]) -> str:
    if not sources:
        return "published"
    first = sources[0]
    kind, _, ident = first.partition(":")
    label = {"post": f"in post {ident}", "comment": f"in comment {ident}", "profile": "in the profile",
             "page": f"on page {ident}"}.get(kind, f"in {first}")
    more = len(sources) - 1
    return label + (f" and {more} other place{'s' if more > 1 else ''}" if more else "")
