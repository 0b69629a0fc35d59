"""Posts and comments as detectors see them, whether from a live capture or the archive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flows.base import Snapshot


@dataclass(frozen=True)
class Item:
    """One post or comment."""

    type: Literal["post", "comment"]
    id: str
    author: str
    text: str
    links: tuple[str, ...] = ()
    publisher: str | None = None
    visitor: bool = False
    post_id: str | None = None  # a comment's post

    @property
    def subject(self) -> str:
        return f"{self.type}:{self.id}"


def snapshot_items(snapshot: Snapshot) -> list[Item]:
    """Every post and comment of a capture, posts first in feed order; pure."""
    items: list[Item] = []
    for post in snapshot.posts:
        items.append(Item("post", post.id, post.author, post.text, post.links, post.publisher, post.visitor))
    for post in snapshot.posts:
        for c in post.comments:
            items.append(Item("comment", c.id, c.author, c.text, c.links, post_id=post.id))
    return items
