"""HTML pages: login, logout and the project list. Same services as the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labelwise.api.deps import DbDep, SettingsDep
from labelwise.errors import RateLimited, Unauthorized
from labelwise.services import accounts, projects
from labelwise.web.rendering import PageRoute, SessionUser, logged_in, render
from labelwise.web.security import SESSION_COOKIE, check_csrf, set_session_cookie

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never send a user on to another host after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/projects"


@router.get("/")
def home(user: SessionUser) -> Response:
    return RedirectResponse("/projects" if user else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: SessionUser, next: str | None = None) -> Response:
    if user:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/projects",
) -> Response:
    check_csrf(request, csrf_token)
    limits = accounts.LoginLimits(
        settings.login_max_failures, timedelta(minutes=settings.login_window_minutes)
    )
    client = request.client.host if request.client else "unknown"
    try:
        user = accounts.authenticate(db, username, password, client, limits)
    except (Unauthorized, RateLimited) as error:
        context = {"next": _safe_next(next), "error": str(error), "username": username}
        response = render(request, "login.html", context, status_code=error.status_code)
        if isinstance(error, RateLimited):
            response.headers["retry-after"] = str(error.retry_after_seconds)
        return response
    token = accounts.create_session(db, user, settings.session_hours)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, token, settings.session_hours * 3600, settings.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, db: DbDep, user: SessionUser) -> Response:
    user = logged_in(user)
    summaries = projects.summaries(db, accounts.actor_of(user))
    return render(request, "projects.html", {"user": user, "projects": summaries})
