"""Quality pages: the guideline-gaps report, from the same service as `GET .../gaps`."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from labelwise.api.deps import DbDep
from labelwise.policies import Action
from labelwise.services.reporting import guideline_gaps
from labelwise.web.rendering import PageRoute, SessionUser, project_access, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/projects/{slug}/gaps", response_class=HTMLResponse)
def gaps_page(
    slug: str, request: Request, db: DbDep, user: SessionUser, limit: int = Query(10, ge=1, le=100)
) -> Response:
    access = project_access(db, user, slug, Action.VIEW_QUALITY)
    report = guideline_gaps.gaps(db, access.project, limit)
    return render(request, "gaps.html", {"user": user, "access": access, "report": report})
