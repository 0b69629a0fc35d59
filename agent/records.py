"""Pure conversions from what flows captured to what storage records."""

from __future__ import annotations

from flows.base import Comment, Post, Snapshot
from storage.archive import ItemObservation, ProfileInput


def post_observation(post: Post) -> ItemObservation:
    """A post as storage records it (comments are recorded separately)."""
    return ItemObservation(
        platform_id=post.id,
        author=post.author,
        text=post.text,
        links=post.links,
        posted_at=post.time,
        content_hash=post.content_hash(),
        content=post.model_dump(mode="json", exclude={"comments", "box"}),
        publisher=post.publisher,
        visitor=post.visitor,
    )


def comment_observation(post_id: str, comment: Comment) -> ItemObservation:
    """A comment as storage records it, with its post's id."""
    return ItemObservation(
        platform_id=comment.id,
        author=comment.author,
        text=comment.text,
        links=comment.links,
        posted_at=comment.time,
        content_hash=comment.content_hash(),
        content={**comment.model_dump(mode="json", exclude={"box"}), "post_id": post_id},
        parent_id=post_id,
    )


def observations(snapshot: Snapshot) -> tuple[list[ItemObservation], list[ItemObservation]]:
    """(posts, comments) seen in a snapshot."""
    posts = [post_observation(p) for p in snapshot.posts]
    comments = [comment_observation(p.id, c) for p in snapshot.posts for c in p.comments]
    return posts, comments


def profile_input(snapshot: Snapshot) -> ProfileInput:
    """The profile as storage records it."""
    p = snapshot.profile
    return ProfileInput(
        name=p.name, bio=p.bio, links=p.links, avatar_sha256=p.avatar_sha256, content_hash=p.content_hash()
    )
