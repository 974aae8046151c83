"""Escalations: an annotator's question to the managers, which holds the item out of every
queue until it is answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelwise.clock import now
from labelwise.db.engine import Database
from labelwise.db.labeling import store
from labelwise.db.models import Escalation, Item, User
from labelwise.errors import Conflict, NotFound
from labelwise.policies import HolderPermit
from labelwise.services import audit
from labelwise.services.comments import checked_text
from labelwise.services.workflow.submissions import load_assignment
from labelwise.states import LABELING_KINDS, AssignmentKind, AssignmentStatus, move


@dataclass(frozen=True)
class EscalationView:
    id: int
    item_id: int
    external_id: str | None
    asked_by: str
    question: str
    created_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


def escalate(db: Database, assignment_id: int, permit: HolderPermit, question: str) -> int:
    """Take the item out of every queue until a manager answers the question."""
    question = checked_text(question, "question")
    with db.write() as session:
        assignment = load_assignment(session, assignment_id, permit)
        escalable = (AssignmentStatus.ACTIVE, AssignmentStatus.EXPIRED)
        if assignment.kind not in LABELING_KINDS or assignment.status not in escalable:
            raise Conflict(f"this assignment is {assignment.status}; it cannot be escalated")
        item = session.scalars(
            select(Item).where(Item.id == assignment.item_id).with_for_update()
        ).one()
        if (
            assignment.status == AssignmentStatus.ACTIVE
            and assignment.kind == AssignmentKind.ANNOTATE
        ):
            store(session).release_slots([item.id])
        assignment.status = move(assignment.status, AssignmentStatus.ESCALATED)
        assignment.finished_at = now()
        item.on_hold = True
        escalation = Escalation(
            project_id=item.project_id,
            item_id=item.id,
            user_id=permit.actor.user_id,
            question=question,
        )
        session.add(escalation)
        session.flush()
        audit.record(
            session,
            project_id=item.project_id,
            actor_id=permit.actor.user_id,
            action="item.escalated",
            target_type="item",
            target_id=item.id,
            after={"escalation": escalation.id, "question": question},
        )
        return escalation.id


def answer(db: Database, project_id: int, escalation_id: int, user_id: int, text: str) -> None:
    """Answer a question; the item returns to the pool once none of its questions is open."""
    text = checked_text(text, "answer")
    with db.write() as session:
        escalation = session.scalar(
            select(Escalation)
            .where(Escalation.id == escalation_id, Escalation.project_id == project_id)
            .with_for_update()
        )
        if escalation is None:
            raise NotFound(f"escalation {escalation_id} not found")
        if escalation.answered_at is not None:
            raise Conflict("this question was answered already")
        item = session.scalars(
            select(Item).where(Item.id == escalation.item_id).with_for_update()
        ).one()
        escalation.answer, escalation.answered_by = text, user_id
        escalation.answered_at = now()
        session.flush()
        item.on_hold = bool(_open_count(session, item.id))
        audit.record(
            session,
            project_id=project_id,
            actor_id=user_id,
            action="escalation.answered",
            target_type="escalation",
            target_id=escalation.id,
            after={"answer": text},
        )


def _open_count(session: Session, item_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.item_id == item_id, Escalation.answered_at.is_(None))
        )
        or 0
    )


def escalations(
    db: Database,
    project_id: int,
    *,
    open_only: bool = False,
    asked_by: int | None = None,
    item_id: int | None = None,
) -> list[EscalationView]:
    asker, answerer = User.__table__.alias("asker"), User.__table__.alias("answerer")
    query = (
        select(Escalation, Item.external_id, asker.c.username, answerer.c.username)
        .join(Item, Item.id == Escalation.item_id)
        .join(asker, asker.c.id == Escalation.user_id)
        .outerjoin(answerer, answerer.c.id == Escalation.answered_by)
        .where(Escalation.project_id == project_id)
        .order_by(Escalation.id)
    )
    if open_only:
        query = query.where(Escalation.answered_at.is_(None))
    if asked_by is not None:
        query = query.where(Escalation.user_id == asked_by)
    if item_id is not None:
        query = query.where(Escalation.item_id == item_id)
    with db.read() as session:
        rows = session.execute(query).all()
    return [
        EscalationView(
            e.id, e.item_id, ext, who, e.question, e.created_at, e.answer, by, e.answered_at
        )
        for e, ext, who, by in rows
    ]
