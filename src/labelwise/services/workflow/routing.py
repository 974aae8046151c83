"""Who gets which piece of work next: leases, overlap, started-first, priority, caps.

Correctness under concurrency rests on the database, not on this process: the labeling store
(`db.labeling`) takes each person's decisions one at a time and never hands out a slot twice,
on SQLite by running writers one at a time, on PostgreSQL with row and advisory locks, so two
server processes can never hand out the same slot or let one person hoard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, null, select
from sqlalchemy.orm import aliased

from labelwise.clock import now
from labelwise.db.engine import Database
from labelwise.db.labeling import LabelingStore, store
from labelwise.db.labeling.rows import HeldLease, ItemShown
from labelwise.db.models import Annotation, Assignment, Item
from labelwise.errors import NotFound
from labelwise.policies import FieldView, Permit, Role, field_view
from labelwise.services import gold, projects
from labelwise.services.workflow.prelabels import Suggestion, suggestion_of
from labelwise.states import (
    LABELING_KINDS,
    AssignmentKind,
    AssignmentStatus,
    ItemStatus,
    ReviewStatus,
)


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
    suggestion: Suggestion | None = None  # a model's prediction, to pre-fill (prelabels: show)


def next_annotation(db: Database, slug: str, permit: Permit) -> Lease | None:
    """The caller's item to label: their current lease, their rework, or a new item.

    The project is read and `permit` checked in the same unit of work that leases the item.
    """
    user_id = permit.actor.user_id
    with db.write() as session:
        labeling = store(session)
        access = labeling.open_for_person(slug, user_id)
        if access is None:
            raise NotFound("project not found")
        role = Role(access.role) if access.role else None
        permit.check(role)
        spec = projects.stored_spec(access.spec)
        view = field_view(permit.actor, role, spec)
        suggest = spec.workflow.prelabels == "show"
        moment = now()
        held = labeling.expire_then_held(access.id, user_id, LABELING_KINDS, moment)
        if held is not None:
            return _lease(labeling, held, view, suggest)
        cap = spec.workflow.max_per_annotator
        if cap is not None and labeling.taken(access.id, user_id) >= cap:
            return None
        gold_item = gold.gold_to_serve(session, spec, access.id, user_id)
        if gold_item is False:
            return None  # failed the qualification test
        expires_at = moment + timedelta(minutes=spec.workflow.lease_minutes)
        if gold_item is None:
            overlap = spec.workflow.overlap
            leased = labeling.lease_first_free(access.id, user_id, overlap, expires_at, suggest)
            if leased is None:
                return None
            assignment_id, item = leased.assignment_id, ItemShown(*leased[1:4])
            suggestion = suggestion_of(leased[4:]) if suggest else None
        else:  # gold items are shared by everyone: they take no slot
            item = labeling.item(gold_item)
            kind = AssignmentKind.GOLD
            assignment_id = labeling.lease(access.id, item.id, user_id, kind, expires_at)
            suggestion = suggestion_of(labeling.latest_prediction(item.id)) if suggest else None
        return Lease(
            assignment_id,
            AssignmentKind.ANNOTATE,
            item.id,
            item.external_id,
            view.data(item.data),
            expires_at,
            suggestion=suggestion,
        )


def next_review(
    db: Database, project_id: int, user_id: int, lease_minutes: int, view: FieldView
) -> Lease | None:
    """An annotation awaiting review, never the reviewer's own nor on an item they labeled;
    its item as `view` shows it."""
    mine = aliased(Annotation)
    leased = aliased(Assignment)
    query = (
        select(Annotation.id, Annotation.item_id)
        .join(Item, Item.id == Annotation.item_id)
        .where(
            Annotation.project_id == project_id,
            Item.status == ItemStatus.IN_REVIEW,
            Annotation.review_status == ReviewStatus.SUBMITTED,
            ~exists().where(mine.item_id == Annotation.item_id, mine.user_id == user_id),
            ~exists().where(
                leased.annotation_id == Annotation.id,
                leased.kind == AssignmentKind.REVIEW,
                leased.status == AssignmentStatus.ACTIVE,
            ),
        )
        .order_by(Item.priority.desc(), Annotation.item_id, Annotation.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Annotation)
    )
    return _next_shared(db, project_id, user_id, AssignmentKind.REVIEW, query, lease_minutes, view)


def next_adjudication(
    db: Database, project_id: int, user_id: int, lease_minutes: int, view: FieldView
) -> Lease | None:
    """An item whose annotators disagree, for someone who did not label it, as `view` shows it."""
    mine = aliased(Annotation)
    leased = aliased(Assignment)
    query = (
        select(null(), Item.id)
        .where(
            Item.project_id == project_id,
            Item.status == ItemStatus.IN_ADJUDICATION,
            ~exists().where(mine.item_id == Item.id, mine.user_id == user_id),
            ~exists().where(
                leased.item_id == Item.id,
                leased.kind == AssignmentKind.ADJUDICATE,
                leased.status == AssignmentStatus.ACTIVE,
            ),
        )
        .order_by(Item.priority.desc(), Item.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Item)
    )
    kind = AssignmentKind.ADJUDICATE
    return _next_shared(db, project_id, user_id, kind, query, lease_minutes, view)


def _next_shared(
    db: Database,
    project_id: int,
    user_id: int,
    kind: AssignmentKind,
    query: Select[Any, int],
    lease_minutes: int,
    view: FieldView,
) -> Lease | None:
    """Work that waits for anyone of a role: the first free row, skipping those that other
    routers hold (where the database locks rows)."""
    with db.write() as session:
        labeling = store(session)
        labeling.lock_person(project_id, user_id)
        moment = now()
        held = labeling.expire_then_held(project_id, user_id, (kind,), moment)
        if held is not None:
            return _lease(labeling, held, view, suggest=False)
        row = session.execute(query).first()
        if row is None:
            return None
        expires_at = moment + timedelta(minutes=lease_minutes)
        annotation_id, item_id = row
        assignment_id = labeling.lease(
            project_id, item_id, user_id, kind, expires_at, annotation_id
        )
        return _lease(labeling, labeling.assignment(assignment_id), view, suggest=False)


def _lease(labeling: LabelingStore, assignment: HeldLease, view: FieldView, suggest: bool) -> Lease:
    """A lease handed out again, its item as `view` shows it. `suggest`: with the item's
    latest prediction, unless the labeler's own answers are shown (rework)."""
    item = labeling.item(assignment.item_id)
    answers = feedback = suggestion = None
    if assignment.annotation_id is not None:
        answers = labeling.answers_of(assignment.annotation_id)
        if assignment.status == AssignmentStatus.REWORK:
            feedback = labeling.feedback_on(assignment.annotation_id)
    elif suggest:
        suggestion = suggestion_of(labeling.latest_prediction(item.id))
    return Lease(
        assignment_id=assignment.id,
        # A honeypot must look like any other item.
        kind=AssignmentKind.ANNOTATE if assignment.kind == AssignmentKind.GOLD else assignment.kind,
        item_id=item.id,
        external_id=item.external_id,
        data=view.data(item.data),
        expires_at=assignment.expires_at,
        annotation_id=assignment.annotation_id,
        answers=answers,
        feedback=feedback,
        suggestion=suggestion,
    )
