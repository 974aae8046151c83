"""The labeling workflow over HTTP: next item, submit, skip, review verdicts, adjudication."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from labelwise.api import labeling_routes
from labelwise.api.deps import ActorDep, DbDep
from labelwise.api.labeling_routes import (
    LeaseOut,
    SubmitIn,
    lease_response,
    submitted_response,
)
from labelwise.errors import NotFound
from labelwise.policies import Action, HolderPermit, authorize, field_view
from labelwise.services import item_views, projects
from labelwise.services.workflow import routing, submissions

router = APIRouter(tags=["workflow"])


class SkipIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class VerdictIn(BaseModel):
    verdict: Literal["accept", "reject", "correct"]
    feedback: str | None = Field(None, max_length=5000)
    answers: dict[str, Any] | None = Field(None, description="The corrected answers (correct).")


_NEXT_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "nothing for the caller right now"}
}


# Next and submit are answered by api/labeling_routes.py ahead of FastAPI; these routes
# declare them in the OpenAPI document, through the same handlers.


@router.post("/projects/{slug}/next", response_model=LeaseOut, responses=_NEXT_RESPONSES)
async def next_item(slug: str, db: DbDep, actor: ActorDep) -> Response:
    """The caller's next item to label: the same one again while its lease lasts."""
    return await labeling_routes.next_item(db, actor, slug)


@router.post("/projects/{slug}/review/next", response_model=LeaseOut, responses=_NEXT_RESPONSES)
def next_review(slug: str, db: DbDep, actor: ActorDep) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.REVIEW, role)
    spec = projects.spec_of(project)
    view = field_view(actor, role, spec)
    minutes = spec.workflow.lease_minutes
    return lease_response(routing.next_review(db, project.id, actor.user_id, minutes, view))


@router.post(
    "/projects/{slug}/adjudication/next", response_model=LeaseOut, responses=_NEXT_RESPONSES
)
def next_adjudication(slug: str, db: DbDep, actor: ActorDep) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.ADJUDICATE, role)
    spec = projects.spec_of(project)
    view = field_view(actor, role, spec)
    minutes = spec.workflow.lease_minutes
    lease = routing.next_adjudication(db, project.id, actor.user_id, minutes, view)
    return lease_response(lease)


@router.post("/assignments/{assignment_id}/submit", response_model=submissions.Submitted)
async def submit(assignment_id: int, body: SubmitIn, db: DbDep, actor: ActorDep) -> Response:
    """Answer an annotate or adjudicate assignment; a retry with the same answers returns the
    same annotation, one with other answers is a 409 (edit the annotation instead).

    Only its holder may, while their role allows: checked in the unit of work that saves it.
    """
    return await labeling_routes.submit(db, actor, assignment_id, body)


@router.post("/assignments/{assignment_id}/skip", status_code=204)
def skip(assignment_id: int, body: SkipIn, db: DbDep, actor: ActorDep) -> Response:
    submissions.skip(db, assignment_id, HolderPermit(actor), body.reason)
    return Response(status_code=204)


@router.post("/assignments/{assignment_id}/verdict", response_model=submissions.Submitted)
def verdict(assignment_id: int, body: VerdictIn, db: DbDep, actor: ActorDep) -> Response:
    """Accept, reject (feedback required) or correct (answers required) an annotation."""
    permit = HolderPermit(actor)
    result = submissions.verdict(
        db, assignment_id, permit, body.verdict, body.feedback, body.answers
    )
    return submitted_response(result)


@router.put("/annotations/{annotation_id}", response_model=submissions.Submitted)
def revise(annotation_id: int, body: SubmitIn, db: DbDep, actor: ActorDep) -> Response:
    """Edit one's own annotation: a new revision; earlier ones are kept."""
    owner = item_views.annotation_owner(db, annotation_id)
    if owner is None or owner[1] != actor.user_id:
        raise NotFound(f"annotation {annotation_id} not found")
    authorize(actor, Action.ANNOTATE, projects.role_in(db, owner[0], actor.user_id))
    result = submissions.revise(db, annotation_id, actor.user_id, body.answers, body.time_ms)
    return submitted_response(result)
