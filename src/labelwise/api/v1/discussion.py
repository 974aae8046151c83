"""Escalations, comment threads, item detail, annotation history and one's feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.errors import NotFound
from labelwise.policies import Action, Actor, HolderPermit, Role, authorize, can
from labelwise.services import discussion, item_views, projects

router = APIRouter(tags=["discussion"])


class QuestionIn(BaseModel):
    question: str = Field(min_length=1, max_length=discussion.MAX_TEXT)


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=discussion.MAX_TEXT)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=discussion.MAX_TEXT)


class CreatedOut(BaseModel):
    id: int


class EscalationOut(BaseModel):
    id: int
    item_id: int
    external_id: str | None
    asked_by: str
    question: str
    created_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


class CommentOut(BaseModel):
    id: int
    item_id: int
    author: str
    body: str
    created_at: datetime


class ReviewOut(BaseModel):
    annotation_id: int
    reviewer: str
    verdict: str
    feedback: str | None
    corrected_answers: dict[str, Any] | None
    revision: int
    created_at: datetime


class AnnotationOut(BaseModel):
    id: int
    annotator: str
    answers: dict[str, Any]
    time_ms: int | None
    revision: int
    review_status: str
    created_at: datetime
    updated_at: datetime
    reviews: list[ReviewOut]


class ItemDetailOut(BaseModel):
    id: int
    external_id: str | None
    status: str
    data: dict[str, Any]
    final_answers: dict[str, Any] | None
    annotations: list[AnnotationOut]
    comments: list[CommentOut]
    escalations: list[EscalationOut]


class RevisionOut(BaseModel):
    revision: int
    answers: dict[str, Any]
    time_ms: int | None
    created_at: datetime


class HistoryOut(BaseModel):
    annotation: AnnotationOut
    revisions: list[RevisionOut]


class FeedbackOut(BaseModel):
    reviews: list[ReviewOut] = Field(description="Rejections and corrections of your work.")
    escalations: list[EscalationOut] = Field(description="Your questions and their answers.")


@router.post("/assignments/{assignment_id}/escalate", response_model=CreatedOut, status_code=201)
def escalate(assignment_id: int, body: QuestionIn, db: DbDep, actor: ActorDep) -> CreatedOut:
    """Ask the managers about an item: it leaves your queue until they answer."""
    return CreatedOut(id=discussion.escalate(db, assignment_id, HolderPermit(actor), body.question))


@router.get("/projects/{slug}/escalations", response_model=list[EscalationOut])
def list_escalations(
    slug: str, db: DbDep, actor: ActorDep, open: bool = Query(True, description="Only open ones.")
) -> list[EscalationOut]:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.ANSWER_ESCALATIONS, role)
    found = discussion.escalations(db, project.id, open_only=open)
    return [EscalationOut(**e.__dict__) for e in found]


@router.post("/projects/{slug}/escalations/{escalation_id}/answer", status_code=204)
def answer_escalation(
    slug: str, escalation_id: int, body: AnswerIn, db: DbDep, actor: ActorDep
) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.ANSWER_ESCALATIONS, role)
    discussion.answer(db, project.id, escalation_id, actor.user_id, body.answer)
    return Response(status_code=204)


def _visible_item(
    db: Database, actor: Actor, slug: str, item_id: int, action: Action
) -> tuple[Project, Role | None]:
    """Roles that list items see all of them; others only items handed to them."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, action, role)
    if not can(actor, Action.LIST_ITEMS, role) and not discussion.item_was_assigned(
        db, item_id, actor.user_id
    ):
        raise NotFound(f"item {item_id} not found")
    return project, role


@router.get("/projects/{slug}/items/{item_id}/comments", response_model=list[CommentOut])
def list_comments(slug: str, item_id: int, db: DbDep, actor: ActorDep) -> list[CommentOut]:
    project, _ = _visible_item(db, actor, slug, item_id, Action.VIEW_PROJECT)
    return [CommentOut(**c.__dict__) for c in discussion.comments(db, project.id, item_id)]


@router.post(
    "/projects/{slug}/items/{item_id}/comments", response_model=CreatedOut, status_code=201
)
def add_comment(slug: str, item_id: int, body: CommentIn, db: DbDep, actor: ActorDep) -> CreatedOut:
    project, _ = _visible_item(db, actor, slug, item_id, Action.DISCUSS)
    return CreatedOut(id=discussion.add_comment(db, project.id, item_id, actor.user_id, body.body))


@router.get("/projects/{slug}/items/{item_id}", response_model=ItemDetailOut)
def item_detail(slug: str, item_id: int, db: DbDep, actor: ActorDep) -> ItemDetailOut:
    """The item with its annotations, reviews, comments and escalations.

    Annotators see only items handed to them, and only their own work on them.
    """
    project, role = _visible_item(db, actor, slug, item_id, Action.VIEW_PROJECT)
    mine = None if can(actor, Action.LIST_ITEMS, role) else actor.user_id
    detail = item_views.item_detail(db, project.id, item_id, only_user=mine)
    escalations = discussion.escalations(db, project.id, item_id=item_id, asked_by=mine)
    return ItemDetailOut(
        **{k: v for k, v in detail.__dict__.items() if k != "annotations"},
        annotations=[_annotation_out(a) for a in detail.annotations],
        comments=[CommentOut(**c.__dict__) for c in discussion.comments(db, project.id, item_id)],
        escalations=[EscalationOut(**e.__dict__) for e in escalations],
    )


def _annotation_out(view: item_views.AnnotationView) -> AnnotationOut:
    return AnnotationOut(
        **{k: v for k, v in view.__dict__.items() if k != "reviews"},
        reviews=[ReviewOut(**r.__dict__) for r in view.reviews],
    )


@router.get("/annotations/{annotation_id}/history", response_model=HistoryOut)
def annotation_history(annotation_id: int, db: DbDep, actor: ActorDep) -> HistoryOut:
    """Every revision of an annotation, with its reviews: for its author and for QC roles."""
    owner = item_views.annotation_owner(db, annotation_id)
    allowed = False
    if owner is not None:
        project_id, author = owner
        role = projects.role_in(db, project_id, actor.user_id)
        allowed = author == actor.user_id or can(actor, Action.LIST_ITEMS, role)
    if not allowed:
        raise NotFound(f"annotation {annotation_id} not found")
    (view,) = item_views.annotation_views(db, [annotation_id])
    return HistoryOut(
        annotation=_annotation_out(view),
        revisions=[RevisionOut(**r.__dict__) for r in item_views.revisions(db, annotation_id)],
    )


@router.get("/projects/{slug}/feedback", response_model=FeedbackOut)
def my_feedback(slug: str, db: DbDep, actor: ActorDep) -> FeedbackOut:
    """What reviewers said about your work, and the answers to your questions."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_PROJECT, role)
    reviews = item_views.feedback_for(db, project.id, actor.user_id)
    asked = discussion.escalations(db, project.id, asked_by=actor.user_id)
    return FeedbackOut(
        reviews=[ReviewOut(**r.__dict__) for r in reviews],
        escalations=[EscalationOut(**e.__dict__) for e in asked],
    )
