"""What changed since earlier runs: structure, deletions, edits, the profile."""

from __future__ import annotations

from datetime import datetime

from agent.detect.model import AccountPolicy, History, draft, excerpt, lower
from flows.base import Snapshot
from storage.findings import FindingDraft


def structure(snapshot: Snapshot, history: History, policy: AccountPolicy) -> list[FindingDraft]:
    """structure_changed: the page loaded but could not be read as before."""
    problems = []
    if not snapshot.profile.name:
        problems.append("the profile name was not found")
    present = len(history.present_posts())
    if not snapshot.posts and present:
        problems.append(f"no posts were found where earlier runs saw {present}")
    problems += [w for w in snapshot.warnings if w.startswith("invalid CSS selector")]
    if not problems:
        return []
    return [draft(
        policy, "structure_changed", "account",
        f"{policy.name} could not be read: " + "; ".join(problems) + " (the page may have been redesigned)",
        details={"problems": problems, "warnings": list(snapshot.warnings), "url": snapshot.final_url},
    )]


def _window_start(snapshot: Snapshot) -> datetime | None:
    """The time of the lowest dated post captured: the bottom of the window we saw."""
    for post in reversed(snapshot.posts):
        if post.time is not None:
            return post.time
    return None


def deleted_posts(snapshot: Snapshot, history: History) -> list[str]:
    """Ids of posts seen before that are gone from the part of the feed that was captured.

    With the whole feed captured, every missing post is gone. Otherwise only posts newer
    than the bottom of the captured window count: older ones may merely have scrolled out.
    """
    captured = {p.id for p in snapshot.posts}
    missing = [p for p in history.present_posts() if p.platform_id not in captured]
    if snapshot.feed_complete:
        return [p.platform_id for p in missing]
    start = _window_start(snapshot)
    if start is None:
        return []
    return [p.platform_id for p in missing if p.posted_at is not None and p.posted_at >= start]


def deleted_comments(snapshot: Snapshot, history: History, gone_posts: list[str]) -> list[str]:
    """Ids of comments gone from posts that were captured (or with their deleted post)."""
    shown = {c.id for p in snapshot.posts for c in p.comments}
    captured_posts = {p.id for p in snapshot.posts} | set(gone_posts)
    return [
        c.platform_id for c in history.comments.values()
        if not c.gone and c.parent_id in captured_posts and c.platform_id not in shown
    ]


def deletions(
    snapshot: Snapshot, history: History, policy: AccountPolicy
) -> tuple[list[FindingDraft], list[str], list[str]]:
    """post_deleted findings, and the post and comment ids to mark gone."""
    gone_posts = deleted_posts(snapshot, history)
    gone_comments = deleted_comments(snapshot, history, gone_posts)
    base = policy.policy.severity_of("post_deleted")
    out = []
    for pid in gone_posts:
        known = history.posts[pid]
        with_comments = [c for c in gone_comments if history.comments[c].parent_id == pid]
        out.append(draft(
            policy, "post_deleted", f"post:{pid}",
            f"Post {pid} by {known.author or 'unknown'} was deleted from {policy.name}; "
            "its last captured version is retained",
            severity=base,
            details={"author": known.author, "text": excerpt(known.text), "comments_gone": len(with_comments)},
        ))
    for cid in gone_comments:
        known = history.comments[cid]
        if known.parent_id in gone_posts:
            continue  # reported with its post
        out.append(draft(
            policy, "post_deleted", f"comment:{cid}",
            f"Comment {cid} by {known.author or 'unknown'} on post {known.parent_id} was removed from "
            f"{policy.name}; its last captured version is retained",
            severity=lower(base),
            details={"author": known.author, "post_id": known.parent_id, "text": excerpt(known.text)},
        ))
    return out, gone_posts, gone_comments


def edits(snapshot: Snapshot, history: History, policy: AccountPolicy) -> list[FindingDraft]:
    """post_edited: a captured post or comment whose content differs from the last version."""
    out = []
    for post in snapshot.posts:
        known = history.posts.get(post.id)
        if known is not None and known.content_hash != post.content_hash():
            out.append(draft(
                policy, "post_edited", f"post:{post.id}",
                f"Post {post.id} on {policy.name} was edited; every version is retained",
                details={"before": excerpt(known.text), "after": excerpt(post.text)},
                key=(post.content_hash(),),
            ))
        for c in post.comments:
            known_c = history.comments.get(c.id)
            if known_c is not None and known_c.content_hash != c.content_hash():
                out.append(draft(
                    policy, "post_edited", f"comment:{c.id}",
                    f"Comment {c.id} by {c.author} on post {post.id} was edited; every version is retained",
                    severity="low",
                    details={"before": excerpt(known_c.text), "after": excerpt(c.text)},
                    key=(c.content_hash(),),
                ))
    return out


def profile_change(snapshot: Snapshot, history: History, policy: AccountPolicy) -> list[FindingDraft]:
    """profile_changed: name, bio, links or avatar differ from the last capture."""
    before, after = history.profile, snapshot.profile
    if before is None or not after.name or before.content_hash == after.content_hash():
        return []
    changed = {}
    if before.name != after.name:
        changed["name"] = {"before": before.name, "after": after.name}
    if before.bio != after.bio:
        changed["bio"] = {"before": before.bio, "after": after.bio}
    if tuple(before.links) != tuple(after.links):
        changed["links"] = {"before": list(before.links), "after": list(after.links)}
    if before.avatar_sha256 != after.avatar_sha256:
        changed["avatar"] = {"before": before.avatar_sha256, "after": after.avatar_sha256}
    if not changed:
        return []
    return [draft(
        policy, "profile_changed", "profile",
        f"The profile of {policy.name} changed ({', '.join(changed)}): confirm it was authorised",
        details=changed,
        key=(after.content_hash(),),
    )]
