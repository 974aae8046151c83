"""Automated checks: run them, read their findings."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from labelwise.api.deps import ActorDep, DbDep
from labelwise.policies import Action, authorize
from labelwise.services import checks, projects

router = APIRouter(tags=["checks"])


class CheckRunOut(BaseModel):
    checks: list[str]
    counts: dict[str, int]
    sent_to_review: int


class FindingOut(BaseModel):
    check: str
    message: str
    item_id: int | None
    external_id: str | None
    annotation_id: int | None
    username: str | None
    created_at: datetime


@router.post("/projects/{slug}/checks/run", response_model=CheckRunOut)
def run_checks(slug: str, db: DbDep, actor: ActorDep) -> CheckRunOut:
    """Run the checks the spec switches on; findings replace the previous run's."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.RUN_CHECKS, role)
    return CheckRunOut(**checks.run(db, project, actor.user_id).__dict__)


@router.get("/projects/{slug}/checks", response_model=list[FindingOut])
def list_findings(slug: str, db: DbDep, actor: ActorDep) -> list[FindingOut]:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_QUALITY, role)
    return [FindingOut(**f.__dict__) for f in checks.findings(db, project.id)]
