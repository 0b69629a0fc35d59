"""Portal pages over the archive: search, a capture, its artifacts.

Captured pages are hostile input. A screenshot (PNG) may be shown inline; everything else
captured (the DOM above all) is only ever a download, with ``Content-Security-Policy:
sandbox`` and ``nosniff``, so it can never run as this portal's origin.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from agent.detect.config import KINDS
from agent.evidence.verify import verify_run
from agent.timefmt import parse_day_or_time
from agent.web.context import Portal
from storage.models import Artifact, Comment, Finding, ItemVersion, Manifest, Post, Run
from storage.search import Query, search

INLINE = {"image/png"}
#: results on the search page; the template says when there may be more
SEARCH_LIMIT = 200
ARTIFACT_POLICY = "sandbox; default-src 'none'; img-src 'self'"
_EXTENSION = {"image/png": "png", "application/json": "json", "application/warc": "warc.gz",
              "text/html; charset=utf-8": "html.txt", "image/svg+xml": "svg"}


def install(app: FastAPI, portal: Portal) -> None:
    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, q: str = "", account: str = "", department: str = "", author: str = "",
                    since: str = "", until: str = "", kind: str = "", item: str = "") -> Response:
        viewer = portal.viewer(request)
        services = portal.services()
        settings = services.settings
        tz = settings.agent.timezone
        hits, error = [], None
        asked = any((q, account, department, author, since, until, kind, item))
        if asked:
            try:
                accounts = (tuple(a.id for a in settings.accounts if a.department == department)
                            if department else None)
                query = Query(words=q, account=account or None, accounts=accounts, author=author or None,
                              since=parse_day_or_time(since, tz) if since else None,
                              until=parse_day_or_time(until, tz) if until else None,
                              kind=item or None, finding_kind=kind or None, limit=SEARCH_LIMIT)
                hits = search(services.db, query)
            except ValueError:
                error = "a date is not valid; write it like 2026-11-20"
            portal.audit(viewer, "search", q, {"account": account, "department": department, "author": author,
                                               "since": since, "until": until, "kind": kind, "item": item,
                                               "results": len(hits)})
        departments = sorted({a.department for a in settings.accounts if a.department})
        return portal.render("search.html", viewer, hits=hits, asked=asked, error=error, q=q, account=account,
                             department=department, author=author, since=since, until=until, kind=kind, item=item,
                             kinds=KINDS, accounts=settings.accounts, departments=departments,
                             limit=SEARCH_LIMIT)

    @app.get("/captures/{run_id}", response_class=HTMLResponse)
    def capture(request: Request, run_id: str) -> Response:
        viewer = portal.viewer(request)
        services = portal.services()
        with services.db.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise HTTPException(404, f"no capture {run_id}")
            artifacts = s.exec(select(Artifact).where(Artifact.run_id == run_id).order_by(col(Artifact.id))).all()
            manifest = s.exec(select(Manifest).where(Manifest.run_id == run_id)).first()
            findings = s.exec(select(Finding).where((Finding.evidence_run_id == run_id) |
                                                    (Finding.last_run_id == run_id))).all()
            history = _versions(s, run)
            gone = _gone(s, run)
        snapshot = _snapshot(services, run)
        verification = verify_run(services, run_id)
        portal.audit(viewer, "view", f"capture:{run_id}", {"account": run.account_id})
        return portal.render("capture.html", viewer, run=run, artifacts=artifacts, manifest=manifest,
                             findings=findings, snapshot=snapshot, history=history, gone=gone,
                             verification=verification)

    @app.get("/artifacts/{sha256}")
    def artifact(request: Request, sha256: str, download: int = 0) -> Response:
        viewer = portal.viewer(request)
        services = portal.services()
        with services.db.session() as s:
            row = s.exec(select(Artifact).where(Artifact.sha256 == sha256)).first()
        if row is None:
            raise HTTPException(404, "no such artifact")
        data = services.archive.blobs.get(sha256)
        inline = row.media_type in INLINE and not download
        portal.audit(viewer, "view" if inline else "download", f"artifact:{sha256}",
                     {"kind": row.kind, "run": row.run_id})
        name = f"{row.run_id}-{row.kind}.{_EXTENSION.get(row.media_type, 'bin')}"
        headers = {
            "Content-Security-Policy": ARTIFACT_POLICY,
            "Content-Disposition": "inline" if inline else f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        }
        media = row.media_type if inline else "application/octet-stream"
        return Response(data, media_type=media, headers=headers)


def _snapshot(services: Any, run: Run) -> dict[str, Any]:
    if not run.snapshot_sha256 or not services.archive.blobs.exists(run.snapshot_sha256):
        return {"posts": [], "profile": {}}
    return dict(json.loads(services.archive.blobs.get(run.snapshot_sha256)))


def _versions(s: Any, run: Run) -> dict[str, list[ItemVersion]]:
    """Every version of each post that has been edited and appears in this capture."""
    out: dict[str, list[ItemVersion]] = {}
    posts = s.exec(select(Post).where(Post.account_id == run.account_id, col(Post.version_count) > 1)).all()
    for post in posts:
        versions = s.exec(select(ItemVersion).where(ItemVersion.item_type == "post", ItemVersion.item_id == post.id)
                          .order_by(col(ItemVersion.version))).all()
        if any(v.seen_at <= (run.finished_at or run.started_at) for v in versions):
            out[post.platform_id] = list(versions)
    return out


def _gone(s: Any, run: Run) -> list[Any]:
    """Posts and comments this capture found deleted (their last version is kept)."""
    return list(s.exec(select(Post).where(Post.gone_run == run.id)).all()) + list(
        s.exec(select(Comment).where(Comment.gone_run == run.id)).all())
