"""Who gets which piece of work next: leases, overlap, started-first, priority, caps.

Correctness under concurrency rests on the database, not on this process: on SQLite every
routing transaction is BEGIN IMMEDIATE (one writer at a time); on PostgreSQL the candidate
row is taken with FOR UPDATE SKIP LOCKED and each person's requests queue on an advisory
lock, so two server processes can never hand out the same slot or let one person hoard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, null, select, text, update
from sqlalchemy.orm import Session, aliased

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Assignment, Item, Review
from labelwise.services import gold
from labelwise.services.accounts import now
from labelwise.spec import ProjectSpec

OPEN_STATUSES = ("in_progress", "new")  # started items first


@dataclass(frozen=True)
class Lease:
    """A piece of work handed to one person, as the API returns it."""

    assignment_id: int
    kind: str
    item_id: int
    external_id: str | None
    data: dict[str, Any]
    expires_at: datetime
    annotation_id: int | None = None
    answers: dict[str, Any] | None = None  # the answers under review, or being reworked
    feedback: str | None = None  # the reviewer's feedback on reworked answers


def next_annotation(db: Database, project_id: int, spec: ProjectSpec, user_id: int) -> Lease | None:
    """The caller's item to label: their current lease, their rework, or a new item."""
    with db.write() as session:
        _serialise_per_person(session, db, project_id, user_id)
        moment = now()
        expire_leases(session, project_id, moment)
        held = _held(session, project_id, user_id, ("annotate", "gold"))
        if held is not None:
            return _lease(session, held)
        cap = spec.workflow.max_per_annotator
        if cap is not None and _taken(session, project_id, user_id) >= cap:
            return None
        gold_item = gold.gold_to_serve(session, spec, project_id, user_id)
        if gold_item is False:
            return None  # failed the qualification test
        kind = "gold" if gold_item is not None else "annotate"
        item_id = gold_item or _candidate(session, db, project_id, user_id, spec.workflow.overlap)
        if item_id is None:
            return None
        assignment = Assignment(
            project_id=project_id,
            item_id=item_id,
            user_id=user_id,
            kind=kind,
            status="active",
            expires_at=moment + timedelta(minutes=spec.workflow.lease_minutes),
        )
        session.add(assignment)
        if kind == "annotate":  # gold items are shared by everyone: they take no slot
            session.execute(
                update(Item)
                .where(Item.id == item_id)
                .values(slots_used=Item.slots_used + 1, status="in_progress")
            )
        session.flush()
        return _lease(session, assignment)


def next_review(db: Database, project_id: int, user_id: int, lease_minutes: int) -> Lease | None:
    """An annotation awaiting review, never the reviewer's own nor on an item they labeled."""
    mine = aliased(Annotation)
    leased = aliased(Assignment)
    query = (
        select(Annotation.id, Annotation.item_id)
        .join(Item, Item.id == Annotation.item_id)
        .where(
            Annotation.project_id == project_id,
            Item.status == "in_review",
            Annotation.review_status == "submitted",
            ~exists().where(mine.item_id == Annotation.item_id, mine.user_id == user_id),
            ~exists().where(
                leased.annotation_id == Annotation.id,
                leased.kind == "review",
                leased.status == "active",
            ),
        )
        .order_by(Item.priority.desc(), Annotation.item_id, Annotation.id)
        .limit(1)
    )
    return _next_shared(db, project_id, user_id, "review", query, lease_minutes)


def next_adjudication(
    db: Database, project_id: int, user_id: int, lease_minutes: int
) -> Lease | None:
    """An item whose annotators disagree, for someone who did not label it."""
    mine = aliased(Annotation)
    leased = aliased(Assignment)
    query = (
        select(null(), Item.id)
        .where(
            Item.project_id == project_id,
            Item.status == "in_adjudication",
            ~exists().where(mine.item_id == Item.id, mine.user_id == user_id),
            ~exists().where(
                leased.item_id == Item.id,
                leased.kind == "adjudicate",
                leased.status == "active",
            ),
        )
        .order_by(Item.priority.desc(), Item.id)
        .limit(1)
    )
    return _next_shared(db, project_id, user_id, "adjudicate", query, lease_minutes)


def _next_shared(
    db: Database,
    project_id: int,
    user_id: int,
    kind: str,
    query: Select[Any, int],
    lease_minutes: int,
) -> Lease | None:
    with db.write() as session:
        _serialise_per_person(session, db, project_id, user_id)
        moment = now()
        expire_leases(session, project_id, moment)
        held = _held(session, project_id, user_id, (kind,))
        if held is not None:
            return _lease(session, held)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=_locked_table(kind))
        row = session.execute(query).first()
        if row is None:
            return None
        assignment = Assignment(
            project_id=project_id,
            item_id=row[1],
            user_id=user_id,
            kind=kind,
            status="active",
            annotation_id=row[0],
            expires_at=moment + timedelta(minutes=lease_minutes),
        )
        session.add(assignment)
        session.flush()
        return _lease(session, assignment)


def _locked_table(kind: str) -> Any:
    return Annotation if kind == "review" else Item


def _serialise_per_person(session: Session, db: Database, project_id: int, user_id: int) -> None:
    """One routing decision per person at a time, across every server process."""
    if not db.is_sqlite:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:project, :user)"),
            {"project": project_id, "user": user_id},
        )


def expire_leases(session: Session, project_id: int, moment: datetime) -> None:
    """Give the slots of leases that ran out back to the pool."""
    expired = session.execute(
        update(Assignment)
        .where(
            Assignment.project_id == project_id,
            Assignment.status == "active",
            Assignment.expires_at < moment,
        )
        .values(status="expired", finished_at=moment)
        .returning(Assignment.item_id, Assignment.kind)
    ).all()
    for item_id in sorted(item_id for item_id, kind in expired if kind == "annotate"):
        release_slot(session, item_id)


def release_slot(session: Session, item_id: int) -> None:
    """An annotation slot came free; an item nobody holds any more is new again."""
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(
            slots_used=Item.slots_used - 1,
            status=case(
                (and_(Item.slots_used == 1, Item.status == "in_progress"), "new"),
                else_=Item.status,
            ),
        )
    )


def _held(
    session: Session, project_id: int, user_id: int, kinds: tuple[str, ...]
) -> Assignment | None:
    """A live lease (asking again gives the same item), else handed-back rework."""
    return session.scalar(
        select(Assignment)
        .where(
            Assignment.project_id == project_id,
            Assignment.user_id == user_id,
            Assignment.kind.in_(kinds),
            Assignment.status.in_(("active", "rework")),
        )
        .order_by(case((Assignment.status == "active", 0), else_=1), Assignment.id)
        .limit(1)
    )


def _taken(session: Session, project_id: int, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(
                Assignment.project_id == project_id,
                Assignment.user_id == user_id,
                Assignment.kind == "annotate",
                Assignment.status.in_(("active", "submitted", "rework")),
            )
        )
        or 0
    )


def _candidate(
    session: Session, db: Database, project_id: int, user_id: int, overlap: int
) -> int | None:
    """The first open item with a free slot that this person has never been given."""
    # A correlated count, not NOT EXISTS: PostgreSQL may plan the anti-join as a scan of all
    # of the person's assignments per candidate item; the count is one index probe per item.
    taken_before = (
        select(func.count())
        .where(
            Assignment.item_id == Item.id,
            Assignment.user_id == user_id,
            Assignment.kind.in_(("annotate", "gold")),
        )
        .scalar_subquery()
    )
    for status in OPEN_STATUSES:
        query = (
            select(Item.id)
            .where(
                Item.project_id == project_id,
                Item.status == status,
                Item.slots_used < overlap,
                ~Item.on_hold,
                taken_before == 0,
                gold.not_gold(Item.id),
            )
            .order_by(Item.priority.desc(), Item.id)
            .limit(1)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        item_id = session.scalar(query)
        if item_id is not None:
            return item_id
    return None


def _lease(session: Session, assignment: Assignment) -> Lease:
    item = session.get_one(Item, assignment.item_id)
    answers = feedback = None
    if assignment.annotation_id is not None:
        annotation = session.get_one(Annotation, assignment.annotation_id)
        answers = annotation.answers
    if assignment.status == "rework":
        feedback = session.scalar(
            select(Review.feedback)
            .where(Review.annotation_id == assignment.annotation_id, Review.verdict == "reject")
            .order_by(Review.id.desc())
            .limit(1)
        )
    return Lease(
        assignment_id=assignment.id,
        # A honeypot must look like any other item.
        kind="annotate" if assignment.kind == "gold" else assignment.kind,
        item_id=item.id,
        external_id=item.external_id,
        data=item.data,
        expires_at=assignment.expires_at,
        annotation_id=assignment.annotation_id,
        answers=answers,
        feedback=feedback,
    )
