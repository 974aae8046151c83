"""The project dashboard page: charts drawn on the server, each with its table, no script.

Authorized like its API twin (`GET /api/v1/projects/{slug}/dashboard`) and built by the same
service. Recomputing the quality figures of a big project takes minutes, so the form that asks
for it answers at once and the work runs after the response, in this process.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labelwise.api.deps import DbDep
from labelwise.policies import Action
from labelwise.services.reporting import dashboard, dashboard_quality
from labelwise.web import dashboard_charts as charts
from labelwise.web.rendering import PageRoute, SessionUser, project_access, render
from labelwise.web.security import check_csrf

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/projects/{slug}/dashboard", response_class=HTMLResponse)
def dashboard_page(slug: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    access = project_access(db, user, slug, Action.VIEW_DASHBOARD)
    board = dashboard.build(db, access.project)
    work, quality = board.work, board.quality
    sections = {
        "progress": charts.progress(work),
        "throughput": charts.throughput(work),
        "time": charts.time_on_item(work),
        "reviews": charts.reviews(work),
        "checks": charts.checks(work),
    }
    if quality is not None:
        sections |= {
            "agreement": charts.agreement(quality),
            "balance": charts.balance(quality),
            "gold": charts.gold(quality),
        }
    context = {
        "user": user,
        "access": access,
        "board": board,
        "sections": sections,
        "computing": dashboard_quality.computing(access.project.id),
    }
    return render(request, "dashboard.html", context)


@router.post("/projects/{slug}/dashboard/recompute")
def recompute(
    slug: str,
    request: Request,
    db: DbDep,
    user: SessionUser,
    tasks: BackgroundTasks,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    access = project_access(db, user, slug, Action.VIEW_DASHBOARD)
    if dashboard_quality.claim(access.project.id):
        tasks.add_task(dashboard_quality.recompute_claimed, db, access.project)
    return RedirectResponse(f"/projects/{slug}/dashboard#quality", status_code=303)
