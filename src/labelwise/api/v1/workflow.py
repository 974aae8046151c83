"""The labeling workflow over HTTP: next item, submit, skip, review verdicts, adjudication."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.errors import NotFound
from labelwise.policies import Action, authorize
from labelwise.services import item_views, projects, routing, submissions

router = APIRouter(tags=["workflow"])


class ItemIn(BaseModel):
    id: int
    external_id: str | None
    data: dict[str, Any]


class LeaseOut(BaseModel):
    assignment_id: int
    kind: Literal["annotate", "review", "adjudicate"]
    item: ItemIn
    expires_at: datetime
    annotation_id: int | None = Field(None, description="The annotation under review or rework.")
    answers: dict[str, Any] | None = Field(None, description="Its answers.")
    feedback: str | None = Field(None, description="Why a reviewer sent it back (rework).")


class SubmitIn(BaseModel):
    answers: dict[str, Any]
    time_ms: int | None = Field(None, ge=0, description="Time spent on the item.")


class SkipIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class VerdictIn(BaseModel):
    verdict: Literal["accept", "reject", "correct"]
    feedback: str | None = Field(None, max_length=5000)
    answers: dict[str, Any] | None = Field(None, description="The corrected answers (correct).")


class SubmittedOut(BaseModel):
    assignment_id: int
    annotation_id: int | None
    revision: int | None
    item_id: int
    item_status: str


# The answers are serialized here, straight from the models, for the FastAPI routes and the
# fast path (api/fastpath.py) alike; FastAPI passes a Response through without re-validating.


def lease_response(lease: routing.Lease | None) -> Response:
    if lease is None:
        return Response(status_code=204)
    out = LeaseOut(
        assignment_id=lease.assignment_id,
        kind=lease.kind,  # type: ignore[arg-type]
        item=ItemIn(id=lease.item_id, external_id=lease.external_id, data=lease.data),
        expires_at=lease.expires_at,
        annotation_id=lease.annotation_id,
        answers=lease.answers,
        feedback=lease.feedback,
    )
    return Response(out.model_dump_json(), media_type="application/json")


def submitted_response(result: submissions.Submitted) -> Response:
    body = SubmittedOut(**result.__dict__).model_dump_json()
    return Response(body, media_type="application/json")


_NEXT_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "nothing for the caller right now"}
}


@router.post("/projects/{slug}/next", response_model=LeaseOut, responses=_NEXT_RESPONSES)
def next_item(slug: str, db: DbDep, actor: ActorDep) -> Response:
    """The caller's next item to label: the same one again while its lease lasts."""
    return lease_response(routing.next_annotation(db, slug, actor))


@router.post("/projects/{slug}/review/next", response_model=LeaseOut, responses=_NEXT_RESPONSES)
def next_review(slug: str, db: DbDep, actor: ActorDep) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.REVIEW, role)
    minutes = projects.spec_of(project).workflow.lease_minutes
    return lease_response(routing.next_review(db, project.id, actor.user_id, minutes))


@router.post(
    "/projects/{slug}/adjudication/next", response_model=LeaseOut, responses=_NEXT_RESPONSES
)
def next_adjudication(slug: str, db: DbDep, actor: ActorDep) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.ADJUDICATE, role)
    minutes = projects.spec_of(project).workflow.lease_minutes
    return lease_response(routing.next_adjudication(db, project.id, actor.user_id, minutes))


@router.post("/assignments/{assignment_id}/submit", response_model=SubmittedOut)
def submit(assignment_id: int, body: SubmitIn, db: DbDep, actor: ActorDep) -> Response:
    """Answer an annotate or adjudicate assignment; a retry returns the same annotation.

    Only its holder may, while their role allows: checked in the unit of work that saves it.
    """
    result = submissions.submit(db, assignment_id, actor, body.answers, body.time_ms)
    return submitted_response(result)


@router.post("/assignments/{assignment_id}/skip", status_code=204)
def skip(assignment_id: int, body: SkipIn, db: DbDep, actor: ActorDep) -> Response:
    submissions.skip(db, assignment_id, actor, body.reason)
    return Response(status_code=204)


@router.post("/assignments/{assignment_id}/verdict", response_model=SubmittedOut)
def verdict(assignment_id: int, body: VerdictIn, db: DbDep, actor: ActorDep) -> Response:
    """Accept, reject (feedback required) or correct (answers required) an annotation."""
    result = submissions.verdict(
        db, assignment_id, actor, body.verdict, body.feedback, body.answers
    )
    return submitted_response(result)


@router.put("/annotations/{annotation_id}", response_model=SubmittedOut)
def revise(annotation_id: int, body: SubmitIn, db: DbDep, actor: ActorDep) -> Response:
    """Edit one's own annotation: a new revision; earlier ones are kept."""
    owner = item_views.annotation_owner(db, annotation_id)
    if owner is None or owner[1] != actor.user_id:
        raise NotFound(f"annotation {annotation_id} not found")
    authorize(actor, Action.ANNOTATE, projects.role_in(db, owner[0], actor.user_id))
    result = submissions.revise(db, annotation_id, actor.user_id, body.answers, body.time_ms)
    return submitted_response(result)
