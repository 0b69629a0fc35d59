"""Re-judging the archive with today's rules: a rule added today finds last year's post."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from agent.alerts.alerter import Alerter
from agent.detect.pipeline import Item, scan_items
from agent.detect.content.rules import ContentRules
from agent.recorder import account_policy
from agent.services import Services
from agent.settings import Account
from storage import findings
from storage.clock import utcnow
from storage.models import Comment, Post


@dataclass
class RescanResult:
    account: str
    items: int = 0
    new: list[findings.Recorded] = field(default_factory=list)
    reopened: list[findings.Recorded] = field(default_factory=list)
    seen: int = 0


def _items(services: Services, account_id: str, since: datetime | None) -> list[tuple[Item, str]]:
    """Every stored post and comment (deleted ones too) with the run that last saw it."""
    out: list[tuple[Item, str]] = []
    with services.db.session() as session:
        posts = select(Post).where(Post.account_id == account_id)
        comments = select(Comment).where(Comment.account_id == account_id)
        if since is not None:
            posts = posts.where(col(Post.first_seen_at) >= since)
            comments = comments.where(col(Comment.first_seen_at) >= since)
        for p in session.exec(posts).all():
            out.append((Item("post", p.platform_id, p.author, p.text, tuple(p.links), p.publisher, p.visitor),
                        p.last_seen_run))
        for c in session.exec(comments).all():
            out.append((Item("comment", c.platform_id, c.author, c.text, tuple(c.links),
                             post_id=c.post_platform_id), c.last_seen_run))
    return out


def rescan_account(
    services: Services, account: Account, since: datetime | None, alerter: Alerter | None = None
) -> RescanResult:
    """Apply the current rules to an account's archive; record (and alert) what they find."""
    rules = ContentRules(services.settings.rules)
    policy = account_policy(account, services.settings.policy)
    last_profile = services.archive.last_profile(account.id)
    profile_name = last_profile.name if last_profile else ""
    pairs = _items(services, account.id, since)
    evidence = {item.subject: run for item, run in pairs}
    drafts = scan_items([item for item, _ in pairs], policy, rules, profile_name)
    by_run = defaultdict(list)
    for d in drafts:
        by_run[evidence[d.subject]].append(d)
    result = RescanResult(account.id, items=len(pairs))
    now = utcnow()
    with services.db.session() as session:
        for run_id, group in by_run.items():
            recorded = findings.record(session, account.id, run_id, group, now)
            if alerter is not None:
                alerter.on_findings(session, recorded, consecutive_failures=0, now=now)
            for rec in recorded:
                if rec.change == "new":
                    result.new.append(rec)
                elif rec.change == "reopened":
                    result.reopened.append(rec)
                else:
                    result.seen += 1
    return result
