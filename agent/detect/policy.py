"""Who may post here, and what may be posted: authorship, public posting, content rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from agent.detect.content.hits import Hit, highest
from agent.detect.content.rules import ContentRules
from agent.detect.content.spam import repeated
from agent.detect.items import Item
from agent.detect.model import AccountPolicy, draft, excerpt
from flows.base import Snapshot
from storage.findings import FindingDraft


def _who(item: Item, policy: AccountPolicy, profile_name: str) -> str:
    if item.type == "post":
        return "Visitor post" if item.visitor else "Post"
    return "Comment by the page" if policy.is_page(item.author, profile_name) else "Public comment"


def authorship(items: Sequence[Item], policy: AccountPolicy, profile_name: str = "") -> list[FindingDraft]:
    """unauthorized_author for the account's own posts; public_post_present for the public's."""
    out = []
    for item in items:
        if item.type == "post" and item.visitor:
            if not policy.public_posting:
                out.append(draft(
                    policy, "public_post_present", item.subject,
                    f"Visitor post by {item.author or 'an unknown visitor'} on {policy.name}, "
                    "where the public may not post",
                    details={"author": item.author, "text": excerpt(item.text)},
                ))
        elif item.type == "post":
            who = item.publisher or item.author
            if who and not policy.authorized(who):
                shown = "published by" if item.publisher else "posted as"
                out.append(draft(
                    policy, "unauthorized_author", item.subject,
                    f"Post {shown} {who!r} on {policy.name}: not an authorised author",
                    details={"author": item.author, "publisher": item.publisher, "text": excerpt(item.text)},
                ))
        elif not policy.public_comments and not policy.is_page(item.author, profile_name):
            out.append(draft(
                policy, "public_post_present", item.subject,
                f"Public comment by {item.author or 'an unknown person'} on post {item.post_id} of "
                f"{policy.name}, where the public may not comment",
                details={"author": item.author, "post_id": item.post_id, "text": excerpt(item.text)},
            ))
    return out


def public_posting(snapshot: Snapshot, policy: AccountPolicy) -> list[FindingDraft]:
    """public_posting_enabled: a visitor is offered a composer, or the settings allow it."""
    if policy.public_posting:
        return []
    composer = snapshot.visitor is not None and snapshot.visitor.composer_offered
    setting = snapshot.public_posting_setting is True
    if not (composer or setting):
        return []
    reasons = []
    if composer:
        reasons.append("an anonymous visitor is offered a post composer")
    if setting:
        reasons.append("the page settings allow visitor posts")
    return [draft(
        policy, "public_posting_enabled", "setting:public_posting",
        f"Public posting is open on {policy.name}: " + " and ".join(reasons),
        details={
            "composer_offered": composer,
            "setting_enabled": setting,
            "visitor_screenshot": snapshot.visitor.screenshot_sha256 if snapshot.visitor else None,
        },
    )]


def prohibited(
    items: Sequence[Item],
    policy: AccountPolicy,
    rules: ContentRules,
    profile_name: str = "",
    repeated_threshold: int | None = None,
) -> list[FindingDraft]:
    """prohibited_content: one finding per item and rule set that matched."""
    by_public = {i.subject: (i.visitor if i.type == "post" else not policy.is_page(i.author, profile_name))
                 for i in items}
    hits: dict[str, list[Hit]] = defaultdict(list)
    for item in items:
        hits[item.subject] += rules.scan(item.text, item.links, by_public[item.subject])
    if repeated_threshold and rules.settings.spam.enabled:
        public_comments = [(i.subject, i.author, i.text) for i in items if i.type == "comment" and by_public[i.subject]]
        for subject, copies in repeated(public_comments, repeated_threshold).items():
            hits[subject].append(Hit("spam", "repeated", "low", f"the same comment posted {copies} times", ""))
    out = []
    for item in items:
        groups: dict[str, list[Hit]] = defaultdict(list)
        for hit in hits[item.subject]:
            groups[hit.rule_set].append(hit)
        for rule_set, found in groups.items():
            labels = ", ".join(dict.fromkeys(h.label for h in found))
            where = f" on post {item.post_id}" if item.type == "comment" else ""
            writer = f" by {item.author}" if item.author else ""
            out.append(draft(
                policy, "prohibited_content", item.subject,
                f"{_who(item, policy, profile_name)}{writer}{where} contains {labels}",
                severity=highest([h.severity for h in found]),  # type: ignore[arg-type]
                clause=rules.clause_for(rule_set),
                details={
                    "rule_set": rule_set,
                    "matches": [{"rule": h.rule, "label": h.label, "excerpt": h.excerpt} for h in found],
                    "author": item.author,
                    "by_public": by_public[item.subject],
                    "post_id": item.post_id,
                    "text": excerpt(item.text),
                    "rules_version": rules.version,
                },
                key=(rule_set,),
            ))
    return out
