"""The detection pipeline: every detector applied to one capture (or to archived items)."""

from __future__ import annotations

from collections.abc import Sequence

from agent.detect import changes, policy as rules_of_policy
from agent.detect.content.rules import ContentRules
from agent.detect.items import Item, snapshot_items
from agent.detect.model import AccountPolicy, Detection, History, draft
from flows.base import Snapshot
from storage.findings import FindingDraft

__all__ = ["AccountPolicy", "Detection", "History", "Item", "detect", "detect_failure", "scan_items"]


def detect(snapshot: Snapshot, history: History, policy: AccountPolicy, rules: ContentRules) -> Detection:
    """Every finding a successful capture supports."""
    result = Detection()
    structure = changes.structure(snapshot, history, policy)
    result.drafts += structure
    result.structure_ok = not structure
    if policy.pages:
        # The city's own pages: a change is a new version, not a finding; their links are
        # checked by the link checker. Posting rules do not apply to them.
        result.judged = {"account"} | {f"post:{p.id}" for p in snapshot.posts}
        return result
    items = snapshot_items(snapshot)
    result.drafts += scan_items(items, policy, rules, snapshot.profile.name, rules.settings.repeated_comments)
    result.drafts += rules_of_policy.public_posting(snapshot, policy)
    result.drafts += changes.edits(snapshot, history, policy)
    if result.structure_ok:
        # A page we could not read proves nothing was deleted and nothing was renamed.
        deleted, result.gone_posts, result.gone_comments = changes.deletions(snapshot, history, policy)
        result.drafts += deleted
        result.drafts += changes.profile_change(snapshot, history, policy)
    result.drafts += visitor_view_failure(snapshot, policy)
    result.judged = _judged(snapshot, items, result)
    return result


def scan_items(
    items: Sequence[Item],
    policy: AccountPolicy,
    rules: ContentRules,
    profile_name: str = "",
    repeated_threshold: int | None = None,
) -> list[FindingDraft]:
    """The findings that depend only on the items themselves (used by live runs and rescan)."""
    return rules_of_policy.authorship(items, policy, profile_name) + rules_of_policy.prohibited(
        items, policy, rules, profile_name, repeated_threshold
    )


def visitor_view_failure(snapshot: Snapshot, policy: AccountPolicy) -> list[FindingDraft]:
    """capture_failed (low) when the anonymous view could not be taken."""
    failed = [w for w in snapshot.warnings if w.startswith("visitor view failed")]
    if not failed:
        return []
    return [draft(policy, "capture_failed", "visitor_view",
                  f"The anonymous visitor view of {policy.name} could not be captured, so public "
                  f"posting could not be checked: {failed[0].removeprefix('visitor view failed: ')}",
                  severity="low", details={"error": failed[0]})]


def detect_failure(policy: AccountPolicy, error_code: str, message: str) -> FindingDraft:
    """login_failed or capture_failed for a run that did not complete."""
    if error_code in ("login_failed", "blocked"):
        what = "is blocked by a CAPTCHA or checkpoint" if error_code == "blocked" else "could not be signed in to"
        return draft(policy, "login_failed", "account", f"{policy.name} {what}: {message}",
                     details={"error_code": error_code, "error": message})
    return draft(policy, "capture_failed", "account", f"{policy.name} could not be captured: {message}",
                 details={"error_code": error_code, "error": message})


def _judged(snapshot: Snapshot, items: Sequence[Item], result: Detection) -> set[str]:
    judged = {"account"} | {i.subject for i in items}
    if result.structure_ok:
        judged |= {f"post:{p}" for p in result.gone_posts} | {f"comment:{c}" for c in result.gone_comments}
    if snapshot.visitor is not None:
        judged |= {"visitor_view", "setting:public_posting"}
    elif snapshot.public_posting_setting is not None:
        judged.add("setting:public_posting")
    return judged
