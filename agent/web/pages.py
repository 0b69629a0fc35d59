"""Portal pages: sign-in, dashboard, findings, export, users, audit log."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlmodel import col, func, select

from agent.detect.config import KINDS
from agent.errors import CivicwatchError
from agent.evidence.export import ExportRequest, export
from agent.timefmt import parse_day_or_time
from agent.web import auth
from agent.web.context import LOGIN_COOKIE, SESSION_COOKIE, Portal, SignInRequired
from storage import audit
from storage import findings as store
from storage.clock import utcnow
from storage.models import AuditEntry, Finding, User
from storage.queries import latest_runs


async def _form(request: Request) -> dict[str, Any]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def install(app: FastAPI, portal: Portal) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        return portal.to_sign_in(exc.next_url)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path in ("/healthz", "/metrics"):
            return Response(str(exc.detail), status_code=exc.status_code)
        return portal.render("error.html", None, http_status=exc.status_code, status_code=exc.status_code,
                             detail=exc.detail)

    # -- signing in -----------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(next: str = "/") -> Response:
        token = portal.new_login_token()
        response = portal.render("login.html", None, next=_safe(next), login_token=token, error=None)
        portal.cookie(response, LOGIN_COOKIE, token, max_age=3600)
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        name, next_url = form.get("name", ""), _safe(form.get("next", "/"))
        if not auth.csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), form.get("login_token")):
            raise HTTPException(400, "the sign-in form expired; reload the page and try again")
        services = portal.services()
        try:
            with services.db.session() as s:
                user = auth.authenticate(s, name, form.get("password", ""), utcnow(), portal.policy())
                token, _ = auth.start_session(s, user, utcnow())
        except auth.AuthError as exc:
            portal.audit(f"(sign-in as {name[:100]!r})", "login_failed", name[:100])
            fresh = portal.new_login_token()
            response = portal.render("login.html", None, http_status=401, next=next_url, login_token=fresh,
                                     error=exc.message)
            portal.cookie(response, LOGIN_COOKIE, fresh, max_age=3600)
            return response
        portal.audit(name, "login", name)
        response = RedirectResponse(next_url, status_code=303)
        portal.cookie(response, SESSION_COOKIE, token)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        viewer = portal.viewer(request)
        portal.check_csrf(viewer, await _form(request))
        with portal.services().db.session() as s:
            auth.end(s, viewer.token)
        portal.audit(viewer, "logout", viewer.name)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # -- dashboard ------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def dashboard(request: Request) -> Response:
        viewer = portal.viewer(request)
        services = portal.services()
        with services.db.session() as s:
            latest = latest_runs(s)
            counts = dict(s.exec(select(Finding.account_id, func.count()).where(Finding.status != "resolved")
                                 .group_by(Finding.account_id)).all())
            recent = store.query(s, limit=15)
        accounts = [{"account": a, "last": latest.get(a.id), "open": counts.get(a.id, 0)}
                    for a in services.settings.accounts]
        portal.audit(viewer, "view", "dashboard")
        return portal.render("dashboard.html", viewer, accounts=accounts, recent=recent)

    # -- findings -------------------------------------------------------------------------------

    @app.get("/findings", response_class=HTMLResponse)
    def findings(request: Request, account: str = "", kind: str = "", status: str = "") -> Response:
        viewer = portal.viewer(request)
        with portal.services().db.session() as s:
            rows = store.query(s, account=account or None, kind=kind or None, status=status or None, limit=500)
        portal.audit(viewer, "view", "findings", {"account": account, "kind": kind, "status": status})
        return portal.render("findings.html", viewer, rows=rows, kinds=KINDS, account=account, kind=kind,
                             status=status, accounts=portal.services().settings.accounts)

    @app.get("/findings/{finding_id}", response_class=HTMLResponse)
    def finding(request: Request, finding_id: int) -> Response:
        viewer = portal.viewer(request)
        with portal.services().db.session() as s:
            try:
                row = store.get(s, finding_id)
            except store.FindingNotFound:
                raise HTTPException(404, f"no finding {finding_id}") from None
            history = store.events(s, finding_id)
        portal.audit(viewer, "view", f"finding:{finding_id}")
        return portal.render("finding.html", viewer, f=row, history=history)

    @app.post("/findings/{finding_id}/ack")
    async def acknowledge(request: Request, finding_id: int) -> Response:
        viewer = portal.viewer(request, "supervisor")
        form = await _form(request)
        portal.check_csrf(viewer, form)
        return _lifecycle(portal, viewer, finding_id, "ack", form.get("note", ""))

    @app.post("/findings/{finding_id}/resolve")
    async def resolve(request: Request, finding_id: int) -> Response:
        viewer = portal.viewer(request, "supervisor")
        form = await _form(request)
        portal.check_csrf(viewer, form)
        return _lifecycle(portal, viewer, finding_id, "resolve", form.get("why", ""))

    # -- export ----------------------------------------------------------------------------------

    @app.get("/export", response_class=HTMLResponse)
    def export_form(request: Request, account: str = "", finding: str = "") -> Response:
        viewer = portal.viewer(request)
        return portal.render("export.html", viewer, accounts=portal.services().settings.accounts, account=account,
                             finding=finding, error=None)

    @app.post("/export")
    async def export_package(request: Request) -> Response:
        viewer = portal.viewer(request)
        form = await _form(request)
        portal.check_csrf(viewer, form)
        services = portal.services()
        tz = services.settings.agent.timezone
        account = form.get("account", "")
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        out = services.settings.agent.data_dir / "exports" / f"civicwatch-{account}-{stamp}.zip"
        try:
            services.settings.account(account)
            req = ExportRequest(
                account_id=account, out=out, by=viewer.name, reason=form.get("reason", ""),
                case=form.get("case") or None,
                since=parse_day_or_time(form["since"], tz) if form.get("since") else None,
                until=parse_day_or_time(form["until"], tz) if form.get("until") else None,
                finding_id=int(form["finding"]) if form.get("finding") else None,
            )
            result = export(services, req)
        except (CivicwatchError, ValueError) as exc:
            message = exc.message if isinstance(exc, CivicwatchError) else "a date or finding number is not valid"
            return portal.render("export.html", viewer, http_status=400, accounts=services.settings.accounts,
                                 account=account, finding=form.get("finding", ""), error=message)
        return FileResponse(result.path, media_type="application/zip", filename=result.path.name,
                            headers={"X-Package-SHA256": result.sha256})

    # -- administration ---------------------------------------------------------------------------

    @app.get("/users", response_class=HTMLResponse)
    def users(request: Request) -> Response:
        viewer = portal.viewer(request, "admin")
        with portal.services().db.session() as s:
            rows = s.exec(select(User).order_by(User.name)).all()
        portal.audit(viewer, "view", "users")
        return portal.render("users.html", viewer, rows=rows, roles=auth.ROLES, error=None)

    @app.post("/users")
    async def add_user(request: Request) -> Response:
        viewer = portal.viewer(request, "admin")
        form = await _form(request)
        portal.check_csrf(viewer, form)
        try:
            with portal.services().db.session() as s:
                auth.create_user(s, form.get("name", "").strip(), form.get("role", ""), form.get("password", ""))
        except auth.AuthError as exc:
            with portal.services().db.session() as s:
                rows = s.exec(select(User).order_by(User.name)).all()
            return portal.render("users.html", viewer, http_status=400, rows=rows, roles=auth.ROLES, error=exc.message)
        portal.audit(viewer, "user_add", form.get("name", ""), {"role": form.get("role")})
        return RedirectResponse("/users", status_code=303)

    @app.get("/audit", response_class=HTMLResponse)
    def audit_log(request: Request) -> Response:
        viewer = portal.viewer(request, "admin")
        with portal.services().db.session() as s:
            rows = s.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(500)).all()
            problems = audit.verify(s)
        portal.audit(viewer, "view", "audit")
        return portal.render("audit.html", viewer, rows=rows, problems=problems)


def _lifecycle(portal: Portal, viewer: Any, finding_id: int, action: str, text: str) -> Response:
    try:
        with portal.services().db.session() as s:
            if action == "ack":
                store.acknowledge(s, finding_id, viewer.name, text or None, utcnow())
            else:
                store.resolve(s, finding_id, viewer.name, text, utcnow())
    except store.FindingNotFound:
        raise HTTPException(404, f"no finding {finding_id}") from None
    except store.LifecycleError as exc:
        raise HTTPException(409, exc.message) from None
    portal.audit(viewer, action, f"finding:{finding_id}", {"text": text})
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


def _safe(next_url: str) -> str:
    """Only same-site paths: no open redirect after sign-in."""
    return next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"
