"""The sandbox's admin API (JSON under /_admin): how tests and the demo change its state."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from sandbox import seed as seeds
from sandbox.state import SandboxState, SbComment, SbPost, now


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResetIn(_In):
    seed: Literal["demo", "bench"] = "demo"
    accounts: int = 50
    posts: int = 40


class AccountPatch(_In):
    name: str | None = None
    bio: str | None = None
    links: list[str] | None = None
    password: str | None = None
    totp_secret: str | None = None
    public_posting: bool | None = None
    checkpoint: bool | None = None
    layout: Literal["v1", "v2"] | None = None
    down: bool | None = None
    delay_ms: int | None = None
    hang: bool | None = None
    jsloop: bool | None = None
    dialogs: bool | None = None
    script: str | None = None
    avatar_color: str | None = None


class PostIn(_In):
    text: str
    author: str | None = None
    publisher: str | None = None
    links: list[str] = []
    visitor: bool = False
    time: datetime | None = None


class PostPatch(_In):
    text: str | None = None
    links: list[str] | None = None
    publisher: str | None = None


class CommentIn(_In):
    author: str
    text: str
    time: datetime | None = None


class CommentPatch(_In):
    text: str


class ServerPatch(_In):
    down: bool | None = None
    delay_ms: int | None = None
    #: a notice shown on every page of the city's web site (/site/...)
    site_notice: str | None = None
    #: extra pages of the city's web site, path -> HTML served as it is, linked from its home
    #: page (for tests of hostile pages); replaces the previous set
    site_pages: dict[str, str] | None = None


def router(state: SandboxState) -> APIRouter:
    """Routes bound to one sandbox state."""
    api = APIRouter(prefix="/_admin")

    def account(slug: str) -> Any:
        try:
            return state.account(slug)
        except KeyError:
            raise HTTPException(404, f"no account {slug!r}") from None

    def post(slug: str, post_id: str) -> SbPost:
        try:
            return account(slug).post(post_id)
        except KeyError:
            raise HTTPException(404, f"no post {post_id!r} on {slug!r}") from None

    @api.post("/reset")
    def reset(body: ResetIn | None = None) -> dict[str, Any]:
        body = body or ResetIn()
        state.replace(*seeds.seed(body.seed, body.accounts, body.posts))
        return {"accounts": sorted(state.accounts)}

    @api.get("/accounts/{slug}")
    def get_account(slug: str) -> dict[str, Any]:
        a = account(slug)
        return {
            "slug": a.slug, "name": a.name, "bio": a.bio, "links": a.links, "staff": a.staff,
            "public_posting": a.public_posting, "layout": a.layout, "down": a.down,
            "posts": [{"id": p.id, "author": p.author, "text": p.text, "visitor": p.visitor,
                       "publisher": p.publisher, "comments": [c.id for c in p.comments]} for p in a.posts],
            "login_attempts": state.login_attempts.get(a.username, 0),
        }

    @api.patch("/accounts/{slug}")
    def patch_account(slug: str, body: AccountPatch) -> dict[str, str]:
        a = account(slug)
        with state.lock:
            for key, value in body.model_dump(exclude_unset=True).items():
                setattr(a, key, value)
            if body.avatar_color is not None:
                a.avatar_version += 1
        return {"ok": slug}

    @api.post("/accounts/{slug}/posts")
    def add_post(slug: str, body: PostIn) -> dict[str, str]:
        a = account(slug)
        publisher = body.publisher
        if publisher is None and not body.visitor and a.staff:
            publisher = a.staff[0]
        new = SbPost(id=state.next_id("p"), author=body.author or a.name, text=body.text,
                     time=body.time or now(), publisher=publisher, links=body.links, visitor=body.visitor)
        state.add_post(slug, new)
        return {"id": new.id}

    @api.patch("/accounts/{slug}/posts/{post_id}")
    def edit_post(slug: str, post_id: str, body: PostPatch) -> dict[str, str]:
        p = post(slug, post_id)
        with state.lock:
            for key, value in body.model_dump(exclude_unset=True).items():
                setattr(p, key, value)
        return {"id": post_id}

    @api.delete("/accounts/{slug}/posts/{post_id}")
    def delete_post(slug: str, post_id: str) -> dict[str, str]:
        post(slug, post_id)
        state.delete_post(slug, post_id)
        return {"deleted": post_id}

    @api.post("/accounts/{slug}/posts/{post_id}/comments")
    def add_comment(slug: str, post_id: str, body: CommentIn) -> dict[str, str]:
        post(slug, post_id)
        comment = SbComment(id=state.next_id("c"), author=body.author, text=body.text, time=body.time or now())
        state.add_comment(slug, post_id, comment)
        return {"id": comment.id}

    @api.patch("/accounts/{slug}/posts/{post_id}/comments/{comment_id}")
    def edit_comment(slug: str, post_id: str, comment_id: str, body: CommentPatch) -> dict[str, str]:
        for c in post(slug, post_id).comments:
            if c.id == comment_id:
                c.text = body.text
                return {"id": comment_id}
        raise HTTPException(404, f"no comment {comment_id!r}")

    @api.delete("/accounts/{slug}/posts/{post_id}/comments/{comment_id}")
    def delete_comment(slug: str, post_id: str, comment_id: str) -> dict[str, str]:
        post(slug, post_id)
        try:
            state.delete_comment(slug, post_id, comment_id)
        except KeyError:
            raise HTTPException(404, f"no comment {comment_id!r}") from None
        return {"deleted": comment_id}

    @api.post("/accounts/{slug}/expire-sessions")
    def expire(slug: str) -> dict[str, int]:
        account(slug)
        return {"expired": state.expire_sessions(slug)}

    @api.post("/inbox/{name}")
    async def inbox_receive(name: str, request: Request) -> dict[str, int]:
        """A webhook receiver, so the demo can show alerts arriving without a mail server."""
        state.inbox.append({"route": name, "payload": await request.json()})
        return {"received": len(state.inbox)}

    @api.get("/inbox")
    def inbox_list() -> list[dict[str, Any]]:
        return list(state.inbox)

    @api.patch("/server")
    def patch_server(body: ServerPatch) -> dict[str, Any]:
        if body.down is not None:
            state.down = body.down
        if body.delay_ms is not None:
            state.delay_ms = body.delay_ms
        if body.site_notice is not None:
            state.site_notice = body.site_notice
        if body.site_pages is not None:
            state.site_pages = dict(body.site_pages)
        return {"down": state.down, "delay_ms": state.delay_ms, "site_notice": state.site_notice,
                "site_pages": sorted(state.site_pages)}

    return api
