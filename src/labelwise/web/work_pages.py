"""The work screens: labeling, review and adjudication.

Each is a page shell that hands the project spec to an ES module; the module then drives
the same JSON API as scripts do (next, submit, verdict...), so the browser and the API can
never disagree about the workflow. The page itself is authorized like the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from labelwise.api.deps import DbDep
from labelwise.policies import Action
from labelwise.web.rendering import PageRoute, SessionUser, project_access, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# page path -> (what the caller must be allowed, the module that runs it, title)
SCREENS: dict[str, tuple[Action, str, str]] = {
    "annotate": (Action.ANNOTATE, "annotate", "Label"),
    "review": (Action.REVIEW, "review", "Review"),
    "adjudicate": (Action.ADJUDICATE, "adjudicate", "Adjudicate"),
}


def _screen(request: Request, db: DbDep, user: SessionUser, slug: str, screen: str) -> Response:
    action, module, title = SCREENS[screen]
    access = project_access(db, user, slug, action)
    context = {"user": user, "access": access, "module": module, "title": title}
    return render(request, "work.html", context)


@router.get("/projects/{slug}/annotate", response_class=HTMLResponse)
def annotate_page(slug: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    return _screen(request, db, user, slug, "annotate")


@router.get("/projects/{slug}/review", response_class=HTMLResponse)
def review_page(slug: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    return _screen(request, db, user, slug, "review")


@router.get("/projects/{slug}/adjudicate", response_class=HTMLResponse)
def adjudicate_page(slug: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    return _screen(request, db, user, slug, "adjudicate")
