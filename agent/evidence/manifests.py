"""What a run's manifest says: the run, its artifacts, and every record it wrote."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from agent.evidence.signing import Signer
from storage import manifest as chain
from storage.models import Artifact, Capture, Comment, ItemVersion, Manifest, Post, ProfileVersion, Run

RUN_FIELDS = (
    "id", "account_id", "platform", "status", "error_code", "error", "requested_url", "final_url", "tool_version",
    "playwright_version", "browser_version", "user_agent", "viewport", "host", "session_reused", "feed_complete",
    "posts_seen", "posts_new", "snapshot_sha256", "rules_version",
)


def run_facts(run: Run) -> dict[str, Any]:
    """The run row as the manifest records it (and as verification compares it); pure."""
    facts: dict[str, Any] = {name: getattr(run, name) for name in RUN_FIELDS}
    facts["started_at"] = run.started_at.isoformat()
    facts["finished_at"] = run.finished_at.isoformat() if run.finished_at else None
    return facts


def artifact_facts(session: Session, run_id: str) -> list[dict[str, Any]]:
    rows = session.exec(select(Artifact, Capture).join(Capture, col(Artifact.capture_id) == col(Capture.id))
                        .where(Artifact.run_id == run_id)).all()
    facts = [{"view": cap.view, "kind": art.kind, "sha256": art.sha256, "size": art.size,
              "media_type": art.media_type, "url": art.url} for art, cap in rows]
    return sorted(facts, key=lambda a: (a["view"], a["kind"], a["sha256"]))


def version_facts(session: Session, run_id: str) -> list[dict[str, Any]]:
    """Every post/comment version this run wrote: (type, platform id, version, content hash)."""
    out = []
    for item_type, model in (("post", Post), ("comment", Comment)):
        rows = session.exec(select(ItemVersion, model).join(model, col(ItemVersion.item_id) == col(model.id))
                            .where(ItemVersion.run_id == run_id, ItemVersion.item_type == item_type)).all()
        out += [{"type": item_type, "id": item.platform_id, "version": v.version, "content_hash": v.content_hash}
                for v, item in rows]
    return sorted(out, key=lambda v: (v["type"], v["id"], v["version"]))


def manifest_body(session: Session, run: Run, operator: str) -> dict[str, Any]:
    """Everything a run established, for sealing."""
    profile = session.exec(select(ProfileVersion).where(ProfileVersion.run_id == run.id)).first()
    gone_posts = session.exec(select(Post.platform_id).where(Post.gone_run == run.id)).all()
    gone_comments = session.exec(select(Comment.platform_id).where(Comment.gone_run == run.id)).all()
    return {
        "operator": operator,
        "run": run_facts(run),
        "artifacts": artifact_facts(session, run.id),
        "versions": version_facts(session, run.id),
        "profile": {"content_hash": profile.content_hash, "avatar_sha256": profile.avatar_sha256} if profile else None,
        "gone": {"posts": sorted(gone_posts), "comments": sorted(gone_comments)},
    }


def seal(session: Session, run: Run, signer: Signer, operator: str, timestamp: bool, now: datetime) -> Manifest:
    """Write and sign the run's manifest as the next link of its account's chain."""
    session.flush()
    return chain.append(session, run.account_id, run.id, manifest_body(session, run, operator), signer.sign,
                        signer.fingerprint, now, timestamp)
