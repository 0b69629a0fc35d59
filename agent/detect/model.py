"""What detectors take and give. All plain data; no I/O anywhere in agent/detect."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.detect.config import PolicySettings
from agent.detect.content.hits import Severity, severity_rank
from storage.archive import KnownItem, ProfileInput
from storage.findings import FindingDraft

#: kinds detected once, when something happens; all others are conditions that persist
EVENT_KINDS = frozenset({"post_deleted", "post_edited", "profile_changed"})


def normalise_name(name: str) -> str:
    """Case- and space-insensitive form of a person's or page's name; pure."""
    return re.sub(r"\s+", " ", name).strip().casefold()


@dataclass(frozen=True)
class AccountPolicy:
    """The parts of an account's settings detection needs."""

    account_id: str
    name: str
    authorized_authors: tuple[str, ...] = ()
    public_posting: bool = False
    public_comments: bool = True
    policy: PolicySettings = field(default_factory=PolicySettings)
    #: the items are the city's own web pages (platform "website"), not a feed
    pages: bool = False

    def authorized(self, who: str) -> bool:
        """May this name publish on the account? The page's own name always may."""
        allowed = {normalise_name(n) for n in (*self.authorized_authors, self.name)}
        return normalise_name(who) in allowed

    def is_page(self, who: str, profile_name: str = "") -> bool:
        """Did the page (or its staff) write this, rather than the public?"""
        return self.authorized(who) or (bool(profile_name) and normalise_name(who) == normalise_name(profile_name))


@dataclass(frozen=True)
class History:
    """What earlier runs of the account recorded."""

    posts: Mapping[str, KnownItem] = field(default_factory=dict)
    comments: Mapping[str, KnownItem] = field(default_factory=dict)
    profile: ProfileInput | None = None

    def present_posts(self) -> list[KnownItem]:
        return [p for p in self.posts.values() if not p.gone]


@dataclass
class Detection:
    """Findings for one capture, plus the items it showed to be gone."""

    drafts: list[FindingDraft] = field(default_factory=list)
    gone_posts: list[str] = field(default_factory=list)
    gone_comments: list[str] = field(default_factory=list)
    #: subjects this capture could judge (a finding on one of them that is not re-seen is cleared)
    judged: set[str] = field(default_factory=set)
    structure_ok: bool = True


def fingerprint(account_id: str, kind: str, subject: str, *extra: str) -> str:
    """A stable id for "the same problem"; pure."""
    key = "\x1f".join((account_id, kind, subject, *extra))
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def draft(
    policy: AccountPolicy,
    kind: str,
    subject: str,
    summary: str,
    *,
    severity: Severity | None = None,
    clause: str | None = None,
    details: Mapping[str, Any] | None = None,
    key: Iterable[str] = (),
) -> FindingDraft:
    """A finding draft with the account's clause and severity for its kind."""
    return FindingDraft(
        kind=kind,
        severity=severity or policy.policy.severity_of(kind),
        summary=summary,
        subject=subject,
        clause=clause or policy.policy.clause(kind),
        fingerprint=fingerprint(policy.account_id, kind, subject, *key),
        details=dict(details or {}),
        stateful=kind not in EVENT_KINDS,
    )


def lower(severity: Severity) -> Severity:
    """One step less severe; pure."""
    order: tuple[Severity, ...] = ("low", "medium", "high", "critical")
    return order[max(0, severity_rank(severity) - 1)]


def excerpt(text: str, limit: int = 280) -> str:
    """The start of a text, for a finding's details; pure."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
