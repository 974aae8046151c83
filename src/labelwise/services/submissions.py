"""Submitting work: annotations (with revisions), skips, review verdicts, adjudications.

Each call is one unit of work that locks the assignment, then the item, in that order
everywhere, so concurrent submits of one item queue instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    Text,
    Update,
    bindparam,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from labelwise.clock import now
from labelwise.db.engine import Database
from labelwise.db.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Item,
    Membership,
    Project,
    Review,
)
from labelwise.db.prepared import Prepared
from labelwise.db.prepared import Record as AnyRow
from labelwise.errors import Conflict, InvalidInput, NotFound
from labelwise.policies import Actor, Role, authorize_assignment
from labelwise.services import audit, gold, projects
from labelwise.services.guideline_versions import version_in_force
from labelwise.services.item_flow import ANNOTATIONS_OF_ITEM, item_annotations, next_status
from labelwise.services.routing import release_slot
from labelwise.spec import AnswerError, ProjectSpec, validate_answers

VERDICTS = ("accept", "reject", "correct")


@dataclass(frozen=True)
class Submitted:
    assignment_id: int
    annotation_id: int | None
    revision: int | None
    item_id: int
    item_status: str


# The statements of the submit hot path are built once and run as prepared statements.
_ASSIGNMENTS = cast(Table, Assignment.__table__)
_ITEMS = cast(Table, Item.__table__)
_ANNOTATIONS = cast(Table, Annotation.__table__)
_MEMBERSHIPS = cast(Table, Membership.__table__)
_PROJECTS = cast(Table, Project.__table__)
_ASSIGNMENT_COLUMNS = (
    _ASSIGNMENTS.c.id,
    _ASSIGNMENTS.c.project_id,
    _ASSIGNMENTS.c.item_id,
    _ASSIGNMENTS.c.user_id,
    _ASSIGNMENTS.c.kind,
    _ASSIGNMENTS.c.status,
    _ASSIGNMENTS.c.annotation_id,
    _MEMBERSHIPS.c.role,  # the holder's role in the assignment's project now
)
_ITEM_COLUMNS = (
    _ITEMS.c.id,
    _ITEMS.c.project_id,
    _ITEMS.c.status,
    _ITEMS.c.slots_used,
    _ITEMS.c.data,
    _ITEMS.c.final_answers,
    type_coerce(_PROJECTS.c.spec, Text).label("spec"),  # parsed once per distinct spec
)
_WITH_ROLE = _ASSIGNMENTS.outerjoin(
    _MEMBERSHIPS,
    (_MEMBERSHIPS.c.project_id == _ASSIGNMENTS.c.project_id)
    & (_MEMBERSHIPS.c.user_id == _ASSIGNMENTS.c.user_id),
)
_WITH_SPEC = _ITEMS.join(_PROJECTS, _PROJECTS.c.id == _ITEMS.c.project_id)
_LOCK_ASSIGNMENT = Prepared(
    select(*_ASSIGNMENT_COLUMNS)
    .select_from(_WITH_ROLE)
    .where(_ASSIGNMENTS.c.id == bindparam("assignment"))
    .with_for_update(of=_ASSIGNMENTS)
)
_LOCK_ITEM = Prepared(
    select(*_ITEM_COLUMNS)
    .select_from(_WITH_SPEC)
    .where(_ITEMS.c.id == bindparam("item"))
    .with_for_update(of=_ITEMS)
)
# Both in one statement, for submit: PostgreSQL locks the rows in the order of `of`.
_LOCK_BOTH = Prepared(
    select(*_ASSIGNMENT_COLUMNS, *(c.label(f"i_{c.name}") for c in _ITEM_COLUMNS))
    .select_from(_WITH_ROLE.join(_WITH_SPEC, _ITEMS.c.id == _ASSIGNMENTS.c.item_id))
    .where(_ASSIGNMENTS.c.id == bindparam("assignment"))
    .with_for_update(of=[_ASSIGNMENTS, _ITEMS])
)
_LOCK_ANNOTATION = Prepared(
    select(
        _ANNOTATIONS.c.id,
        _ANNOTATIONS.c.project_id,
        _ANNOTATIONS.c.item_id,
        _ANNOTATIONS.c.user_id,
        _ANNOTATIONS.c.revision,
        _ANNOTATIONS.c.answers,
    )
    .where(_ANNOTATIONS.c.id == bindparam("annotation"))
    .with_for_update()
)
_REVISION = Prepared(
    select(_ANNOTATIONS.c.revision).where(_ANNOTATIONS.c.id == bindparam("annotation"))
)
# Every answer records the guideline version in force, read inside the statement itself.
_IN_FORCE = {"guideline_version": version_in_force(bindparam("guidelines_of"))}
_REVISIONS = cast(Table, AnnotationRevision.__table__)
_INSERT_ANNOTATION = Prepared(insert(_ANNOTATIONS).values(_IN_FORCE).returning(_ANNOTATIONS.c.id))
_INSERT_REVISION = Prepared(insert(_REVISIONS).values(_IN_FORCE))
_UPDATE_ANNOTATION = Prepared(
    update(_ANNOTATIONS).where(_ANNOTATIONS.c.id == bindparam("annotation")).values(_IN_FORCE)
)
_UPDATE_ITEM = Prepared(update(_ITEMS).where(_ITEMS.c.id == bindparam("item")))


def _finish_statement(annotation_id: Any) -> Update:
    return (
        update(_ASSIGNMENTS)
        .where(_ASSIGNMENTS.c.id == bindparam("assignment"))
        .values(
            status="submitted",
            finished_at=bindparam("moment"),
            annotation_id=func.coalesce(annotation_id, _ASSIGNMENTS.c.annotation_id),
        )
    )


_FINISH = Prepared(_finish_statement(bindparam("annotation")))


def _new_annotation_pg() -> Prepared:
    """PostgreSQL: the annotation, its first revision and the finished assignment in one
    statement, which answers the item's annotations, the new one last (its snapshot does not
    see the new row: it is added from the INSERT's RETURNING)."""
    answer: dict[str, Any] = {"answers": bindparam("answers"), "time_ms": bindparam("time_ms")}
    annotation = (
        insert(_ANNOTATIONS)
        .values(
            project_id=bindparam("project_id"),
            item_id=bindparam("item"),
            user_id=bindparam("user_id"),
            **answer,
            **_IN_FORCE,
        )
        .returning(*ANNOTATIONS_OF_ITEM.selected_columns, _ANNOTATIONS.c.guideline_version)
        .cte("annotation")
    )
    revision = insert(_REVISIONS).from_select(
        ["annotation_id", "revision", "answers", "time_ms", "guideline_version"],
        select(
            annotation.c.id,
            literal(1),
            *(bindparam(name, type_=_REVISIONS.c[name].type) for name in answer),
            annotation.c.guideline_version,
        ),
    )
    finished = _finish_statement(select(annotation.c.id).scalar_subquery())
    earlier = ANNOTATIONS_OF_ITEM.order_by(None)
    new = select(annotation.c.id, annotation.c.answers, annotation.c.review_status)
    return Prepared(
        earlier.union_all(new)
        .order_by("id")
        .add_cte(revision.cte("revision"), finished.cte("finished"))
    )


_NEW_ANNOTATION_PG = _new_annotation_pg()
_REWORK_OF = Prepared(
    select(_ASSIGNMENTS.c.id, _ASSIGNMENTS.c.status)
    .where(
        _ASSIGNMENTS.c.annotation_id == bindparam("annotation"), _ASSIGNMENTS.c.kind == "annotate"
    )
    .with_for_update()
)


def _answer_values(answers: dict[str, Any], time_ms: int | None, project_id: int) -> dict[str, Any]:
    """What one answer writes, alike to its annotation and to the annotation's revision."""
    return {"answers": answers, "time_ms": time_ms, "guidelines_of": project_id}


@dataclass
class _LockedItem:
    """An item row locked for the unit of work; `status` and `slots_used` as they become."""

    id: int
    project_id: int
    status: str
    slots_used: int
    data: Any
    final_answers: Any
    spec: ProjectSpec

    def save(self, connection: Connection, before: tuple[str, int]) -> None:
        if (self.status, self.slots_used) != before:
            _UPDATE_ITEM.all(
                connection, {"item": self.id, "status": self.status, "slots_used": self.slots_used}
            )


def _lock_item(connection: Connection, item_id: int) -> _LockedItem:
    return _locked_item(_LOCK_ITEM.one(connection, {"item": item_id}))


def _locked_item(row: AnyRow, prefix: str = "") -> _LockedItem:
    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    return _LockedItem(
        get("id"),
        get("project_id"),
        get("status"),
        get("slots_used"),
        get("data"),
        get("final_answers"),
        projects.stored_spec(get("spec")),
    )


def _lock_assignment(connection: Connection, assignment_id: int, actor: Actor) -> AnyRow:
    """The caller's own assignment, locked, once the policies let them act on it."""
    row = _LOCK_ASSIGNMENT.first(connection, {"assignment": assignment_id})
    return _authorized(row, actor, assignment_id)


def _lock_assignment_and_item(
    connection: Connection, assignment_id: int, actor: Actor
) -> tuple[AnyRow, _LockedItem]:
    """`_lock_assignment`, then `_lock_item` of its item, in one round trip."""
    row = _LOCK_BOTH.first(connection, {"assignment": assignment_id})
    return _authorized(row, actor, assignment_id), _locked_item(row, "i_")


def _authorized(row: AnyRow | None, actor: Actor, assignment_id: int) -> AnyRow:
    if row is None:
        raise NotFound(f"assignment {assignment_id} not found")
    role = Role(row.role) if row.role else None
    authorize_assignment(actor, assignment_id, row.kind, row.user_id, role)
    return row


def load_assignment(session: Session, assignment_id: int, actor: Actor) -> Assignment:
    """`_lock_assignment`, as the model for the less travelled paths."""
    _lock_assignment(session.connection(), assignment_id, actor)
    return session.get_one(Assignment, assignment_id)


def submit(
    db: Database, assignment_id: int, actor: Actor, answers: Any, time_ms: int | None
) -> Submitted:
    """Answer an annotate or adjudicate assignment. A retry returns the first result."""
    with db.write() as session:
        connection = session.connection()
        assignment, item = _lock_assignment_and_item(connection, assignment_id, actor)
        if assignment.kind == "review":
            raise InvalidInput("this is a review assignment: send a verdict instead")
        if assignment.status == "submitted":
            return _first_result(connection, assignment, item)
        clean = _validated(item.spec, answers, item.data)
        before = (item.status, item.slots_used)
        annotation_id: int | None = None
        revision: int | None = None
        if assignment.kind == "adjudicate":
            event = _adjudicate(connection, assignment, item, clean)
        else:
            annotation_id, revision, event = _annotate(session, assignment, item, clean, time_ms)
        item.save(connection, before)
        audit.record(session, **event, commit=True)  # last: the head is locked until commit
        return Submitted(
            assignment.id,
            annotation_id or assignment.annotation_id,
            revision if assignment.kind == "annotate" else None,
            item.id,
            item.status,
        )


def _first_result(connection: Connection, assignment: AnyRow, item: _LockedItem) -> Submitted:
    """A retry's answer: the first submit's annotation and revision, the item as it is now."""
    revision = None
    if assignment.annotation_id is not None and assignment.kind == "annotate":
        params = {"annotation": assignment.annotation_id}
        revision = _REVISION.scalar(connection, params)
    return Submitted(assignment.id, assignment.annotation_id, revision, item.id, item.status)


def _event(
    project_id: int,
    actor_id: int,
    action: str,
    target: tuple[str, int],
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    """An audit event to record as the last step of the unit of work."""
    return {
        "project_id": project_id,
        "actor_id": actor_id,
        "action": action,
        "target_type": target[0],
        "target_id": target[1],
        "before": before,
        "after": after,
    }


def _annotate(
    session: Session,
    assignment: AnyRow,
    item: _LockedItem,
    answers: dict[str, Any],
    time_ms: int | None,
) -> tuple[int, int, dict[str, Any]]:
    """Save the answer on the locked item: the annotation's id, its revision, the event."""
    connection = session.connection()
    if assignment.status == "rework":
        annotation = _LOCK_ANNOTATION.one(connection, {"annotation": assignment.annotation_id})
        revision, event = _revise(connection, annotation, answers, time_ms)
        _finish(connection, assignment.id)
        item.status = next_status(session, item.spec, item)
        return annotation.id, revision, event
    if assignment.status in ("skipped", "escalated"):
        raise Conflict(f"this item was {assignment.status}; ask for the next item")
    if assignment.status == "expired" and assignment.kind == "annotate":
        _retake_slot(item)
    annotations, event = _new_annotation(connection, assignment, item, answers, time_ms)
    if assignment.kind == "gold":
        gold.score(session, item.spec, item.id, assignment.user_id, answers)
    else:
        item.status = next_status(session, item.spec, item, annotations)
    return annotations[-1].id, 1, event


def _finish(connection: Connection, assignment_id: int, annotation_id: int | None = None) -> None:
    params = {"assignment": assignment_id, "annotation": annotation_id, "moment": now()}
    _FINISH.all(connection, params)


def _new_annotation(
    connection: Connection,
    assignment: AnyRow,
    item: _LockedItem,
    answers: dict[str, Any],
    time_ms: int | None,
) -> tuple[list[AnyRow], dict[str, Any]]:
    """Save the first answer and finish the assignment: the item's annotations (the new one
    last), and the event to record."""
    values = _answer_values(answers, time_ms, item.project_id)
    inserted = {"project_id": item.project_id, "user_id": assignment.user_id}
    if connection.dialect.name == "postgresql":
        finished = {"assignment": assignment.id, "moment": now()}
        annotations = _NEW_ANNOTATION_PG.all(
            connection, {**values, **inserted, **finished, "item": item.id}
        )
    else:
        annotation_id = _INSERT_ANNOTATION.scalar(
            connection, {**values, **inserted, "item_id": item.id}
        )
        _INSERT_REVISION.all(connection, {**values, "annotation_id": annotation_id, "revision": 1})
        _finish(connection, assignment.id, annotation_id)
        annotations = item_annotations(connection, item.id)
    annotation_id = annotations[-1].id
    event = _event(
        item.project_id,
        assignment.user_id,
        "annotation.created",
        ("annotation", annotation_id),
        after={"item": item.id, "answers": answers, "time_ms": time_ms},
    )
    return annotations, event


def _retake_slot(item: _LockedItem) -> None:
    """A late submit still counts if the slot its lease held is free."""
    if item.status not in ("new", "in_progress") or item.slots_used >= item.spec.workflow.overlap:
        raise Conflict(
            "your lease on this item ran out and the item went to another annotator; "
            "your answer was not saved — ask for the next item"
        )
    item.slots_used += 1
    item.status = "in_progress"


def _revise(
    connection: Connection, annotation: AnyRow, answers: dict[str, Any], time_ms: int | None
) -> tuple[int, dict[str, Any]]:
    """A new revision of a locked annotation: its number, and the event to record."""
    revision = annotation.revision + 1
    values = _answer_values(answers, time_ms, annotation.project_id)
    _UPDATE_ANNOTATION.all(
        connection,
        {
            **values,
            "annotation": annotation.id,
            "revision": revision,
            "updated_at": now(),
            "review_status": "submitted",
        },
    )
    _INSERT_REVISION.all(
        connection, {**values, "annotation_id": annotation.id, "revision": revision}
    )
    event = _event(
        annotation.project_id,
        annotation.user_id,
        "annotation.revised",
        ("annotation", annotation.id),
        before={"revision": annotation.revision, "answers": annotation.answers},
        after={"revision": revision, "answers": answers},
    )
    return revision, event


def revise(
    db: Database, annotation_id: int, user_id: int, answers: Any, time_ms: int | None
) -> Submitted:
    """An annotator edits their own annotation: a new revision; the old ones stay."""
    with db.write() as session:
        connection = session.connection()
        annotation = _LOCK_ANNOTATION.first(connection, {"annotation": annotation_id})
        if annotation is None or annotation.user_id != user_id:
            raise NotFound(f"annotation {annotation_id} not found")
        item = _lock_item(connection, annotation.item_id)
        before = (item.status, item.slots_used)
        clean = _validated(item.spec, answers, item.data)
        revision, event = _revise(connection, annotation, clean, time_ms)
        assignment = _REWORK_OF.one(connection, {"annotation": annotation.id})
        if assignment.status == "rework":
            _finish(connection, assignment.id)
        if item.status == "in_review":
            item.status = next_status(session, item.spec, item)
        item.save(connection, before)
        audit.record(session, **event)
        return Submitted(assignment.id, annotation.id, revision, item.id, item.status)


def skip(db: Database, assignment_id: int, actor: Actor, reason: str) -> None:
    """Give an item back with a reason; the skipper is not offered it again."""
    if not reason.strip():
        raise InvalidInput("reason: say why you skip this item")
    with db.write() as session:
        assignment = load_assignment(session, assignment_id, actor)
        if assignment.status not in ("active", "expired") or assignment.kind == "review":
            raise Conflict(f"this assignment is {assignment.status}; it cannot be skipped")
        _lock_item(session.connection(), assignment.item_id)
        if assignment.status == "active" and assignment.kind == "annotate":
            release_slot(session.connection(), assignment.item_id)
        assignment.status = "skipped"
        assignment.skip_reason = reason.strip()
        assignment.finished_at = now()
        event = _event(
            assignment.project_id,
            actor.user_id,
            "item.skipped",
            ("item", assignment.item_id),
            after={"reason": assignment.skip_reason},
        )
        audit.record(session, **event)


def verdict(
    db: Database,
    assignment_id: int,
    actor: Actor,
    decision: str,
    feedback: str | None,
    answers: Any,
) -> Submitted:
    """A reviewer's accept, reject (with feedback, back to the annotator) or correct."""
    if decision not in VERDICTS:
        raise InvalidInput(f"verdict: expected one of {', '.join(VERDICTS)}; got {decision!r}")
    if decision == "reject" and not (feedback or "").strip():
        raise InvalidInput("feedback: required when rejecting, so the annotator knows what to fix")
    with db.write() as session:
        connection = session.connection()
        assignment = _lock_assignment(connection, assignment_id, actor)
        if assignment.kind != "review":
            raise InvalidInput("this is not a review assignment")
        item = _lock_item(connection, assignment.item_id)
        if assignment.status == "submitted":
            return Submitted(assignment.id, assignment.annotation_id, None, item.id, item.status)
        annotation = session.get_one(Annotation, assignment.annotation_id)
        if annotation.review_status != "submitted" or item.status != "in_review":
            raise Conflict("this annotation was reviewed by someone else meanwhile")
        corrected = _validated(item.spec, answers, item.data) if decision == "correct" else None
        session.add(
            Review(
                project_id=assignment.project_id,
                item_id=item.id,
                annotation_id=annotation.id,
                revision=annotation.revision,
                reviewer_id=actor.user_id,
                verdict=decision,
                feedback=(feedback or "").strip() or None,
                corrected_answers=corrected,
            )
        )
        annotation.review_status = {"accept": "accepted", "reject": "rejected"}.get(
            decision, "corrected"
        )
        if decision == "reject":
            session.execute(
                update(Assignment)
                .where(Assignment.annotation_id == annotation.id, Assignment.kind == "annotate")
                .values(status="rework")
            )
        session.flush()
        before = (item.status, item.slots_used)
        item.status = next_status(session, item.spec, item)
        item.save(connection, before)
        _finish(connection, assignment.id)
        event = _event(
            assignment.project_id,
            actor.user_id,
            "review.verdict",
            ("annotation", annotation.id),
            after={"verdict": decision, "feedback": feedback, "corrected_answers": corrected},
        )
        audit.record(session, **event)
        return Submitted(assignment.id, annotation.id, None, item.id, item.status)


def _adjudicate(
    connection: Connection, assignment: AnyRow, item: _LockedItem, answers: dict[str, Any]
) -> dict[str, Any]:
    if item.status != "in_adjudication":
        raise Conflict("this item was settled by someone else meanwhile")
    params = {"item": item.id, "final_answers": answers, "final_by": assignment.user_id}
    _UPDATE_ITEM.all(connection, params)
    _finish(connection, assignment.id)
    item.status = "done"
    return _event(
        item.project_id,
        assignment.user_id,
        "item.adjudicated",
        ("item", item.id),
        before={"final_answers": item.final_answers},
        after={"final_answers": answers},
    )


def _validated(spec: ProjectSpec, answers: Any, data: Any) -> dict[str, Any]:
    try:
        return validate_answers(spec, answers, data)
    except AnswerError as error:
        raise InvalidInput(f"answers.{error}") from None
