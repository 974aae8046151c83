"""Gold answers and the caller's qualification test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.formats import ParsedRow
from labelwise.policies import Action, authorize
from labelwise.services import gold, projects

router = APIRouter(tags=["gold"])


class GoldIn(BaseModel):
    answers: dict[str, Any] = Field(description="Known answers; any subset of the questions.")
    explanation: str | None = Field(None, max_length=5000, description="Shown after the test.")


class GoldRowIn(GoldIn):
    id: str = Field(description="The item's external id.")


class CountOut(BaseModel):
    saved: int


@router.put("/projects/{slug}/items/{item_id}/gold", status_code=204)
def set_gold(slug: str, item_id: int, body: GoldIn, db: DbDep, actor: ActorDep) -> Response:
    """Make an item a gold item (or change its known answer)."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.MANAGE_GOLD, role)
    spec = projects.spec_of(project)
    gold.set_gold(db, project.id, spec, item_id, body.answers, body.explanation, actor.user_id)
    return Response(status_code=204)


@router.post("/projects/{slug}/gold", response_model=CountOut)
def import_gold(slug: str, rows: list[GoldRowIn], db: DbDep, actor: ActorDep) -> CountOut:
    """Set many gold answers at once, by external id; all or nothing."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.MANAGE_GOLD, role)
    parsed = (ParsedRow(n, row.model_dump()) for n, row in enumerate(rows, start=1))
    saved = gold.import_gold(
        db,
        project.id,
        projects.spec_of(project),
        parsed,
        source="request body",
        position_name="element",
        actor_id=actor.user_id,
    )
    return CountOut(saved=saved)


@router.get("/projects/{slug}/qualification", response_model=gold.QualificationView)
def qualification(slug: str, db: DbDep, actor: ActorDep) -> gold.QualificationView:
    """The caller's qualification test: progress, then the result with explanations."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_PROJECT, role)
    return gold.qualification_of(db, projects.spec_of(project), project.id, actor.user_id)
