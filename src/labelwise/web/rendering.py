"""What every page shares: templates, the session user, access checks and HTML errors.

Pages call the same services and the same policy layer as the API; only the way a refusal
is shown differs (an HTML page, or a redirect to the login form, instead of JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from labelwise.api.deps import DbDep
from labelwise.db.engine import Database
from labelwise.db.models import Project, User
from labelwise.errors import LabelwiseError
from labelwise.policies import Action, Actor, FieldView, Role, authorize, can, field_view
from labelwise.services import accounts, projects
from labelwise.spec import FieldSpec, page_layout
from labelwise.web.security import SESSION_COOKIE, csrf_token, set_cookies

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


class LoginRequired(Exception):
    """Raised by a page for an anonymous visitor; answered with a redirect to /login."""


class PageRoute(APIRoute):
    """Shows domain errors (404 for non-members, 403, 422) as an HTML page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = quote(request.url.path, safe="/")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            except LabelwiseError as error:
                context = {"user": getattr(request.state, "page_user", None), "error": error}
                return render(request, "error.html", context, status_code=error.status_code)

        return handle


def session_user(request: Request, db: DbDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    user = accounts.user_for_session(db, token) if token else None
    request.state.page_user = user  # so an error page can still show who is logged in
    return user


SessionUser = Annotated[User | None, Depends(session_user)]


def logged_in(user: User | None) -> User:
    if user is None:
        raise LoginRequired
    return user


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    settings = request.app.state.settings
    response = templates.TemplateResponse(
        request,
        name,
        {"csrf_token": csrf_token(request), **context},
        status_code=status_code,
    )
    set_cookies(request, response, settings.secure_cookies)
    return response


class ProjectAccess:
    """A project as one member sees it: the project, their role and what they may do."""

    def __init__(self, project: Project, role: Role | None, actor: Actor) -> None:
        self.project, self.role, self.actor = project, role, actor
        self.spec = projects.spec_of(project)
        self.fields: FieldView = field_view(actor, role, self.spec)

    def can(self, action: Action | str) -> bool:
        """`action` may be an Action or, from a template, its name ("REVIEW")."""
        wanted = action if isinstance(action, Action) else Action[action]
        return can(self.actor, wanted, self.role)

    @property
    def question_layout(self) -> dict[str, dict[str, Any]]:
        """How the pages draw each question, from its kind: the browser keeps no type rules."""
        return page_layout(self.spec)

    @property
    def shown_spec(self) -> dict[str, Any]:
        """The stored spec as the pages hand it to the browser: without the fields hidden
        from this member's role."""
        return self.fields.spec(self.project.spec)

    @property
    def shown_fields(self) -> list[FieldSpec]:
        return self.fields.fields(self.spec.fields)

    @property
    def role_name(self) -> str:
        return self.role.value if self.role else ("admin" if self.actor.is_admin else "")


def project_access(db: Database, user: User | None, slug: str, action: Action) -> ProjectAccess:
    """Load the project and authorize `action` exactly as the API does (404 for non-members)."""
    actor = accounts.actor_of(logged_in(user))
    project, role = projects.access(db, slug, actor)
    authorize(actor, action, role)
    return ProjectAccess(project, role, actor)
