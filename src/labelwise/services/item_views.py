"""Read models of one item: its annotations with reviews, and a person's feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    GoldAnswer,
    Item,
    Project,
    Review,
    User,
)
from labelwise.errors import NotFound
from labelwise.policies import FieldView
from labelwise.services import projects
from labelwise.services.workflow.item_flow import as_if_real
from labelwise.states import LABELING_KINDS, AssignmentStatus, ItemStatus, Verdict


@dataclass(frozen=True)
class ReviewView:
    annotation_id: int
    reviewer: str
    verdict: str
    feedback: str | None
    corrected_answers: dict[str, Any] | None
    revision: int
    created_at: datetime


@dataclass(frozen=True)
class AnnotationView:
    id: int
    annotator: str
    answers: dict[str, Any]
    time_ms: int | None
    revision: int
    review_status: str
    created_at: datetime
    updated_at: datetime
    reviews: list[ReviewView]


@dataclass(frozen=True)
class ItemDetail:
    id: int
    external_id: str | None
    status: str
    data: dict[str, Any]
    final_answers: dict[str, Any] | None
    annotations: list[AnnotationView]


def item_detail(
    db: Database, project_id: int, item_id: int, *, view: FieldView, only_user: int | None = None
) -> ItemDetail:
    """The item as `view` shows it, with its annotations (or only `only_user`'s) and their
    reviews."""
    with db.read() as session:
        item = session.get(Item, item_id)
        if item is None or item.project_id != project_id:
            raise NotFound(f"item {item_id} not found")
        query = select(Annotation.id).where(Annotation.item_id == item_id)
        if only_user is not None:
            query = query.where(Annotation.user_id == only_user)
        ids = list(session.scalars(query))
        status = item.status if only_user is None else _status_shown(session, item, only_user)
    return ItemDetail(
        id=item.id,
        external_id=item.external_id,
        status=status,
        data=view.data(item.data),
        final_answers=item.final_answers if only_user is None else None,
        annotations=annotation_views(db, ids),
    )


def _status_shown(session: Session, item: Item, user_id: int) -> str:
    """The status an annotator sees. A gold item's never moves, which would give it away:
    it shows what a real item would, in progress while they hold it, new after they gave it
    back, and once answered what their submit was told (`as_if_real`)."""
    if session.get(GoldAnswer, item.id) is None:
        return item.status
    mine = (
        Assignment.item_id == item.id,
        Assignment.user_id == user_id,
        Assignment.kind.in_(LABELING_KINDS),
    )
    done = exists().where(*mine, Assignment.status == AssignmentStatus.SUBMITTED)
    held = exists().where(*mine, Assignment.status == AssignmentStatus.ACTIVE)
    if session.scalar(select(done)):
        spec = projects.spec_of(session.get_one(Project, item.project_id))
        return as_if_real(spec, item.project_id, item.id, user_id)
    return ItemStatus.IN_PROGRESS if session.scalar(select(held)) else ItemStatus.NEW


def annotation_views(db: Database, ids: list[int]) -> list[AnnotationView]:
    if not ids:
        return []
    with db.read() as session:
        rows = session.execute(
            select(Annotation, User.username)
            .join(User, User.id == Annotation.user_id)
            .where(Annotation.id.in_(ids))
            .order_by(Annotation.id)
        ).all()
        reviews = _reviews(session, Review.annotation_id.in_(ids))
    return [
        AnnotationView(
            id=a.id,
            annotator=who,
            answers=a.answers,
            time_ms=a.time_ms,
            revision=a.revision,
            review_status=a.review_status,
            created_at=a.created_at,
            updated_at=a.updated_at,
            reviews=[r for r in reviews if r.annotation_id == a.id],
        )
        for a, who in rows
    ]


def _reviews(session: Session, *where: ColumnElement[bool]) -> list[ReviewView]:
    rows = session.execute(
        select(Review, User.username)
        .join(User, User.id == Review.reviewer_id)
        .join(Annotation, Annotation.id == Review.annotation_id)
        .where(*where)
        .order_by(Review.id)
    ).all()
    return [
        ReviewView(
            r.annotation_id,
            who,
            r.verdict,
            r.feedback,
            r.corrected_answers,
            r.revision,
            r.created_at,
        )
        for r, who in rows
    ]


@dataclass(frozen=True)
class Revision:
    revision: int
    answers: dict[str, Any]
    time_ms: int | None
    created_at: datetime


def annotation_owner(db: Database, annotation_id: int) -> tuple[int, int] | None:
    """(project id, annotator id) of an annotation, for authorization."""
    with db.read() as session:
        row = session.execute(
            select(Annotation.project_id, Annotation.user_id).where(Annotation.id == annotation_id)
        ).first()
    return (row[0], row[1]) if row else None


def revisions(db: Database, annotation_id: int) -> list[Revision]:
    with db.read() as session:
        rows = session.scalars(
            select(AnnotationRevision)
            .where(AnnotationRevision.annotation_id == annotation_id)
            .order_by(AnnotationRevision.revision)
        ).all()
    return [Revision(r.revision, r.answers, r.time_ms, r.created_at) for r in rows]


def feedback_for(db: Database, project_id: int, user_id: int, limit: int = 200) -> list[ReviewView]:
    """Reviews of the person's own annotations that say something: rejects, corrections."""
    with db.read() as session:
        found = _reviews(
            session,
            Annotation.project_id == project_id,
            Annotation.user_id == user_id,
            or_(Review.verdict != Verdict.ACCEPT, Review.feedback.is_not(None)),
        )
    return found[-limit:]
