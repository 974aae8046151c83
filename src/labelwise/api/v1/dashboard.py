"""The project dashboard as JSON: the figures the page draws, from the same service."""

from __future__ import annotations

from fastapi import APIRouter

from labelwise.api.deps import ActorDep, DbDep
from labelwise.policies import Action, authorize
from labelwise.services import projects
from labelwise.services.reporting import dashboard
from labelwise.services.reporting.dashboard_model import Dashboard

router = APIRouter(tags=["quality"])


@router.get("/projects/{slug}/dashboard", response_model=Dashboard)
def project_dashboard(slug: str, db: DbDep, actor: ActorDep) -> Dashboard:
    """Work counted now (items by status and done per day, annotations per day and annotator,
    time on item, review verdicts per day, check findings) and the last computed quality
    figures (agreement per guideline version with intervals, class balance per slice, gold
    accuracy), with whether the project changed since they were computed."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_DASHBOARD, role)
    return dashboard.build(db, project)
