"""The sandbox network's web app: pages for people, an admin API for tests and the demo."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from sandbox import admin
from sandbox.state import PAGE_SIZE, SandboxState, SbAccount, SbPost, now

HERE = Path(__file__).parent
SESSION_COOKIE = "sb_session"
OTP_COOKIE = "sb_pending"
#: the city web site's sections (the home page links to each; the "website" demo account crawls them)
SITE_DEPARTMENTS = ("parks", "library", "police", "permits")
_URL = re.compile(r"(https?://[^\s<>\"]+|/site/[A-Za-z0-9_\-/#.]*)")


def linkify(text: str) -> Markup:
    """Escape text and turn URLs and /site/ paths into anchors; pure."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,)")
        out.append(str(escape(text[last : match.start()])))
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = match.start() + len(url)
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _when(value: datetime) -> str:
    return value.strftime("%b %-d, %Y %H:%M UTC")


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["linkify"] = linkify
    env.filters["when"] = _when
    env.filters["iso"] = lambda v: v.isoformat()
    return env


def create_app(state: SandboxState | None = None) -> FastAPI:
    """The sandbox app over a state (a fresh, demo-seeded one by default)."""
    if state is None:
        from sandbox.seed import demo_accounts

        state = SandboxState()
        state.replace(*demo_accounts())
    app = FastAPI(title="civicwatch sandbox network", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = state
    env = _templates()

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    @app.middleware("http")
    async def site_gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not request.url.path.startswith("/_admin"):
            if state.delay_ms:
                await asyncio.sleep(state.delay_ms / 1000)
            if state.down:
                return HTMLResponse("<h1>503 Service Unavailable</h1>", status_code=503)
        return await call_next(request)

    async def account_gate(slug: str) -> SbAccount:
        account = state.accounts.get(slug)
        if account is None:
            raise HTTPException(404, "no such page")
        if account.delay_ms:
            await asyncio.sleep(account.delay_ms / 1000)
        if account.down:
            raise HTTPException(503, "page temporarily unavailable")
        return account

    def owner_of(request: Request) -> str | None:
        return state.session_owner(request.cookies.get(SESSION_COOKIE))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        if request.url.path.startswith("/_admin"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)  # type: ignore[return-value]
        return render("error.html", status=exc.status_code, status_code=exc.status_code, detail=exc.detail)

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> HTMLResponse:
        return render("index.html", accounts=list(state.accounts.values()), owner=owner_of(request))

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> HTMLResponse:
        return render("login.html", error=None, owner=owner_of(request))

    @app.post("/login")
    async def login(user: Annotated[str, Form()] = "", password: Annotated[str, Form(alias="pass")] = "") -> Response:
        account = state.check_password(user, password)
        if account is None:
            return render("login.html", status=401, error="Wrong username or password.", owner=None)
        if account.checkpoint:
            return render("checkpoint.html", owner=None)
        if account.totp_secret:
            pending = state.start_session(f"otp:{account.slug}")
            response = RedirectResponse("/login/otp", status_code=303)
            response.set_cookie(OTP_COOKIE, pending, httponly=True, samesite="lax")
            return response
        return _signed_in(account)

    def _signed_in(account: SbAccount) -> Response:
        response = RedirectResponse(f"/p/{account.slug}", status_code=303)
        response.set_cookie(SESSION_COOKIE, state.start_session(account.slug), httponly=True, samesite="lax")
        response.delete_cookie(OTP_COOKIE)
        return response

    def _pending(request: Request) -> SbAccount:
        owner = state.session_owner(request.cookies.get(OTP_COOKIE)) or ""
        account = state.accounts.get(owner.removeprefix("otp:")) if owner.startswith("otp:") else None
        if account is None:
            raise HTTPException(400, "no sign-in in progress; start again at /login")
        return account

    @app.get("/login/otp", response_class=HTMLResponse)
    async def otp_form(request: Request) -> HTMLResponse:
        _pending(request)
        return render("otp.html", error=None, owner=None)

    @app.post("/login/otp")
    async def otp(request: Request, code: Annotated[str, Form()] = "") -> Response:
        account = _pending(request)
        if not state.check_totp(account, code):
            return render("otp.html", status=401, error="That code is not valid.", owner=None)
        return _signed_in(account)

    @app.get("/logout")
    async def logout(request: Request) -> Response:
        state.sessions.pop(request.cookies.get(SESSION_COOKIE) or "", None)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/p/{slug}", response_class=HTMLResponse)
    async def page(request: Request, slug: str, all: bool = False) -> HTMLResponse:  # noqa: A002
        # ?all=1 renders the whole feed at once (benchmarks compare tools that do not scroll)
        account = await account_gate(slug)
        owner = owner_of(request) == slug
        posts = account.posts if all else account.posts[:PAGE_SIZE]
        more = len(account.posts) > len(posts)
        return render(
            "page.html", account=account, posts=posts, is_owner=owner, owner=owner_of(request),
            next_url=f"/p/{slug}/feed?offset={PAGE_SIZE}" if more else None,
        )

    @app.get("/p/{slug}/feed")
    async def feed(request: Request, slug: str, offset: int = 0) -> JSONResponse:
        account = await account_gate(slug)
        owner = owner_of(request) == slug
        posts = account.posts[offset : offset + PAGE_SIZE]
        html = env.get_template("posts.html").render(account=account, posts=posts, is_owner=owner)
        end = offset + PAGE_SIZE
        return JSONResponse({"html": html, "next": f"/p/{slug}/feed?offset={end}" if end < len(account.posts) else None})

    @app.post("/p/{slug}/visitor-posts")
    async def visitor_post(slug: str, name: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "") -> Response:
        account = await account_gate(slug)
        if not account.public_posting:
            raise HTTPException(403, "this page does not accept posts from visitors")
        if not text.strip():
            raise HTTPException(400, "a post needs text")
        state.add_post(slug, SbPost(id=state.next_id("p"), author=name.strip() or "A visitor",
                                    text=text.strip(), time=now(), visitor=True))
        return RedirectResponse(f"/p/{slug}", status_code=303)

    @app.get("/settings/{slug}", response_class=HTMLResponse)
    async def settings_page(request: Request, slug: str) -> Response:
        account = await account_gate(slug)
        if owner_of(request) != slug:
            return RedirectResponse("/login", status_code=303)
        return render("settings.html", account=account, owner=slug, saved=False)

    @app.post("/settings/{slug}", response_class=HTMLResponse)
    async def save_settings(request: Request, slug: str, allow_public_posts: Annotated[str | None, Form()] = None) -> Response:
        account = await account_gate(slug)
        if owner_of(request) != slug:
            return RedirectResponse("/login", status_code=303)
        account.public_posting = allow_public_posts is not None
        return render("settings.html", account=account, owner=slug, saved=True)

    @app.get("/avatar/{slug}.svg")
    async def avatar(slug: str) -> Response:
        account = await account_gate(slug)
        initials = "".join(w[0] for w in account.name.split()[:2] if w[:1].isalnum()).upper()
        svg = env.get_template("avatar.svg").render(color=account.avatar_color, initials=initials,
                                                    version=account.avatar_version)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})

    @app.get("/img/{name}.svg")
    async def image(name: str) -> Response:
        hue = sum(map(ord, name)) % 360
        svg = env.get_template("photo.svg").render(hue=hue, name=name)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})

    @app.get("/site/{path:path}", response_class=HTMLResponse)
    async def city_site(path: str) -> HTMLResponse:
        if path.startswith("gone"):
            raise HTTPException(404, "page not found")
        if path in state.site_pages:
            return HTMLResponse(state.site_pages[path])
        return render("site.html", path=path.strip("/") or "home", owner=None, notice=state.site_notice,
                      departments=SITE_DEPARTMENTS, extra_pages=sorted(state.site_pages))

    @app.get("/_hang")
    async def hang(request: Request) -> Response:
        # A resource that never finishes while any account is set to hang: its page never fires load.
        while any(a.hang for a in state.accounts.values()) and not await request.is_disconnected():
            await asyncio.sleep(0.1)
        return Response(b"", media_type="image/gif")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(admin.router(state))
    return app
