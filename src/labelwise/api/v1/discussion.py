"""Escalations, comment threads, item detail, annotation history and one's feedback."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.errors import NotFound
from labelwise.policies import Action, Actor, HolderPermit, Role, authorize, can, field_view
from labelwise.services import comments, item_views, projects
from labelwise.services.comments import CommentView
from labelwise.services.workflow import escalations
from labelwise.services.workflow.escalations import EscalationView

router = APIRouter(tags=["discussion"])


class QuestionIn(BaseModel):
    question: str = Field(min_length=1, max_length=comments.MAX_TEXT)


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=comments.MAX_TEXT)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=comments.MAX_TEXT)


class CreatedOut(BaseModel):
    id: int


# item_views.ItemDetail with the item's discussion, which the discussion service keeps.
@dataclass(frozen=True)
class ItemDetailOut(item_views.ItemDetail):
    comments: list[CommentView]
    escalations: list[EscalationView]


class HistoryOut(BaseModel):
    annotation: item_views.AnnotationView
    revisions: list[item_views.Revision]


class FeedbackOut(BaseModel):
    reviews: list[item_views.ReviewView] = Field(
        description="Rejections and corrections of your work."
    )
    escalations: list[EscalationView] = Field(description="Your questions and their answers.")


@router.post("/assignments/{assignment_id}/escalate", response_model=CreatedOut, status_code=201)
def escalate(assignment_id: int, body: QuestionIn, db: DbDep, actor: ActorDep) -> CreatedOut:
    """Ask the managers about an item: it leaves your queue until they answer."""
    return CreatedOut(
        id=escalations.escalate(db, assignment_id, HolderPermit(actor), body.question)
    )


@router.get("/projects/{slug}/escalations", response_model=list[EscalationView])
def list_escalations(
    slug: str, db: DbDep, actor: ActorDep, open: bool = Query(True, description="Only open ones.")
) -> list[EscalationView]:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.ANSWER_ESCALATIONS, role)
    return escalations.escalations(db, project.id, open_only=open)


@router.post("/projects/{slug}/escalations/{escalation_id}/answer", status_code=204)
def answer_escalation(
    slug: str, escalation_id: int, body: AnswerIn, db: DbDep, actor: ActorDep
) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.ANSWER_ESCALATIONS, role)
    escalations.answer(db, project.id, escalation_id, actor.user_id, body.answer)
    return Response(status_code=204)


def visible_item(
    db: Database, actor: Actor, slug: str, item_id: int, action: Action
) -> tuple[Project, Role | None]:
    """Roles that list items see all of them; others only items handed to them."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, action, role)
    if not can(actor, Action.LIST_ITEMS, role) and not comments.item_was_assigned(
        db, item_id, actor.user_id
    ):
        raise NotFound(f"item {item_id} not found")
    return project, role


@router.get("/projects/{slug}/items/{item_id}/comments", response_model=list[CommentView])
def list_comments(slug: str, item_id: int, db: DbDep, actor: ActorDep) -> list[CommentView]:
    project, _ = visible_item(db, actor, slug, item_id, Action.VIEW_PROJECT)
    return comments.comments(db, project.id, item_id)


@router.post(
    "/projects/{slug}/items/{item_id}/comments", response_model=CreatedOut, status_code=201
)
def add_comment(slug: str, item_id: int, body: CommentIn, db: DbDep, actor: ActorDep) -> CreatedOut:
    project, _ = visible_item(db, actor, slug, item_id, Action.DISCUSS)
    return CreatedOut(id=comments.add_comment(db, project.id, item_id, actor.user_id, body.body))


@router.get("/projects/{slug}/items/{item_id}", response_model=ItemDetailOut)
def item_detail(slug: str, item_id: int, db: DbDep, actor: ActorDep) -> ItemDetailOut:
    """The item with its annotations, reviews, comments and escalations.

    Annotators see only items handed to them, and only their own work on them.
    """
    project, role = visible_item(db, actor, slug, item_id, Action.VIEW_PROJECT)
    mine = None if can(actor, Action.LIST_ITEMS, role) else actor.user_id
    view = field_view(actor, role, projects.spec_of(project))
    detail = item_views.item_detail(db, project.id, item_id, view=view, only_user=mine)
    asked = escalations.escalations(db, project.id, item_id=item_id, asked_by=mine)
    return ItemDetailOut(
        id=detail.id,
        external_id=detail.external_id,
        status=detail.status,
        data=detail.data,
        final_answers=detail.final_answers,
        annotations=detail.annotations,
        comments=comments.comments(db, project.id, item_id),
        escalations=asked,
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
    return HistoryOut(annotation=view, revisions=item_views.revisions(db, annotation_id))


@router.get("/projects/{slug}/feedback", response_model=FeedbackOut)
def my_feedback(slug: str, db: DbDep, actor: ActorDep) -> FeedbackOut:
    """What reviewers said about your work, and the answers to your questions."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_PROJECT, role)
    return FeedbackOut(
        reviews=item_views.feedback_for(db, project.id, actor.user_id),
        escalations=escalations.escalations(db, project.id, asked_by=actor.user_id),
    )
