"""Automated checks: run them, read their findings."""

from __future__ import annotations

from fastapi import APIRouter

from labelwise.api.deps import ActorDep, DbDep
from labelwise.policies import Action, authorize
from labelwise.services import checks, projects

router = APIRouter(tags=["checks"])


@router.post("/projects/{slug}/checks/run", response_model=checks.CheckRun)
def run_checks(slug: str, db: DbDep, actor: ActorDep) -> checks.CheckRun:
    """Run the checks the spec switches on; findings replace the previous run's."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.RUN_CHECKS, role)
    return checks.run(db, project, actor.user_id)


@router.get("/projects/{slug}/checks", response_model=list[checks.FindingView])
def list_findings(slug: str, db: DbDep, actor: ActorDep) -> list[checks.FindingView]:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_QUALITY, role)
    return checks.findings(db, project.id)
