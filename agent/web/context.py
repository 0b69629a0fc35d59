"""What every portal request needs: the signed-in user, role checks, CSRF, templates, audit."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from agent.services import Services
from agent.timefmt import local
from agent.web import auth
from storage import audit
from storage.clock import utcnow
from storage.models import User, WebSession

SESSION_COOKIE = "cw_session"
LOGIN_COOKIE = "cw_login"


class SignInRequired(Exception):
    """Raised inside a request when nobody (valid) is signed in."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@dataclass
class Viewer:
    user: User
    session: WebSession
    token: str

    @property
    def name(self) -> str:
        return self.user.name

    def can(self, role: str) -> bool:
        return auth.rank(self.user.role) >= auth.rank(role)


class Portal:
    def __init__(self, services: Callable[[], Services]) -> None:
        self.services = services
        self.env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                               autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
        self.env.filters["local"] = lambda value: local(value, self.services().settings.agent.timezone)
        self.env.filters["short"] = lambda value, n=12: (value or "")[:n]

    # -- settings -----------------------------------------------------------------------------

    def policy(self) -> auth.Policy:
        web = self.services().settings.web
        return auth.Policy(web.max_login_failures, web.lockout, web.idle_timeout, web.session_lifetime)

    def cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, httponly=True, samesite="strict", path="/", max_age=max_age,
                            secure=self.services().settings.web.secure_cookies)

    # -- who is asking --------------------------------------------------------------------------

    def viewer(self, request: Request, role: str = "clerk") -> Viewer:
        """The signed-in user with at least ``role``; redirects to sign-in, or 403."""
        token = request.cookies.get(SESSION_COOKIE)
        with self.services().db.session() as s:
            found = auth.resume(s, token, utcnow(), self.policy())
        if found is None or token is None:
            raise SignInRequired(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        viewer = Viewer(found[0], found[1], token)
        if not viewer.can(role):
            self.audit(viewer, "denied", str(request.url.path), {"needs": role})
            raise HTTPException(403, f"this needs the {role} role")
        return viewer

    def check_csrf(self, viewer: Viewer, form: dict[str, Any]) -> None:
        if not auth.csrf_ok(viewer.session.csrf_token, form.get("csrf")):
            raise HTTPException(400, "the form expired or did not come from this portal; reload and try again")

    def audit(self, viewer: Viewer | str, action: str, target: str = "", details: dict[str, Any] | None = None) -> None:
        actor = viewer if isinstance(viewer, str) else viewer.name
        audit.append(self.services().db, actor, action, target, details or {})

    # -- responses --------------------------------------------------------------------------------

    def render(self, name: str, viewer: Viewer | None, http_status: int = 200, **context: Any) -> HTMLResponse:
        page = self.env.get_template(name).render(viewer=viewer, csrf=viewer.session.csrf_token if viewer else "",
                                                  **context)
        return HTMLResponse(page, status_code=http_status)

    @staticmethod
    def to_sign_in(next_url: str) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(next_url, safe='/')}", status_code=303)

    @staticmethod
    def new_login_token() -> str:
        return secrets.token_urlsafe(24)
