"""The labeling store's statements that read alike on SQLite and PostgreSQL, and the base
class both stores share. Built once at import: the hot path only runs them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from labelwise.clock import now
from labelwise.db.audit_chain import HASHED_FIELDS
from labelwise.db.audit_models import AuditEvent, AuditHead
from labelwise.db.guideline_models import GuidelineVersion
from labelwise.db.labeling.rows import (
    AnnotationState,
    Answers,
    AssignmentState,
    Count,
    Feedback,
    ForSubmit,
    HeldLease,
    InForce,
    ItemShown,
    LockedAnnotation,
    LockedAssignment,
    LockedItem,
    NewId,
    PredictionShown,
    Prelabel,
    Revision,
)
from labelwise.db.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    GoldAnswer,
    Item,
    Membership,
    Prediction,
    Project,
    Review,
)
from labelwise.db.prepared import Prepared
from labelwise.states import (
    LABELING_KINDS,
    AssignmentKind,
    AssignmentStatus,
    ItemStatus,
    ReviewStatus,
    Verdict,
)

ASSIGNMENTS = cast(Table, Assignment.__table__)
ITEMS = cast(Table, Item.__table__)
ANNOTATIONS = cast(Table, Annotation.__table__)
REVISIONS = cast(Table, AnnotationRevision.__table__)
_MEMBERSHIPS = cast(Table, Membership.__table__)
PROJECTS = cast(Table, Project.__table__)
EVENTS = cast(Table, AuditEvent.__table__)
PREDICTIONS = cast(Table, Prediction.__table__)
HEADS = cast(Table, AuditHead.__table__)
_A, _I = AssignmentStatus, ItemStatus
# An item as an import hands it over: (external id, content hash, data as JSON text, priority
# or None for the default).
ItemRow = tuple[str | None, str | None, str, float | None]

# --- routing -------------------------------------------------------------------------------

PROJECT_ACCESS = (
    select(PROJECTS.c.id, type_coerce(PROJECTS.c.spec, Text).label("spec"), _MEMBERSHIPS.c.role)
    .outerjoin(
        _MEMBERSHIPS,
        (_MEMBERSHIPS.c.project_id == PROJECTS.c.id)
        & (_MEMBERSHIPS.c.user_id == bindparam("user")),
    )
    .where(PROJECTS.c.slug == bindparam("slug"))
)
_HELD_COLUMNS = (
    ASSIGNMENTS.c.id,
    ASSIGNMENTS.c.kind,
    ASSIGNMENTS.c.status,
    ASSIGNMENTS.c.item_id,
    ASSIGNMENTS.c.annotation_id,
    ASSIGNMENTS.c.expires_at,
)
EXPIRING = (
    update(ASSIGNMENTS)
    .where(
        ASSIGNMENTS.c.project_id == bindparam("project"),
        ASSIGNMENTS.c.status == _A.ACTIVE,
        ASSIGNMENTS.c.expires_at < bindparam("moment"),
    )
    .values(status=_A.EXPIRED, finished_at=bindparam("moment"))
    .returning(ASSIGNMENTS.c.item_id, ASSIGNMENTS.c.kind)
)
_RELEASE_SLOT = Prepared(
    update(ITEMS)
    .where(ITEMS.c.id == bindparam("item"))
    .values(
        slots_used=ITEMS.c.slots_used - 1,
        status=case(
            (and_(ITEMS.c.slots_used == 1, ITEMS.c.status == _I.IN_PROGRESS), _I.NEW.value),
            else_=ITEMS.c.status,
        ),
    )
)


def take_slot(item_id: Any) -> Update:
    return (
        update(ITEMS)
        .where(ITEMS.c.id == item_id)
        .values(slots_used=ITEMS.c.slots_used + 1, status=_I.IN_PROGRESS)
    )


_TAKEN = Prepared(
    select(func.count().label("n")).where(
        ASSIGNMENTS.c.project_id == bindparam("project"),
        ASSIGNMENTS.c.user_id == bindparam("user"),
        ASSIGNMENTS.c.kind == AssignmentKind.ANNOTATE,
        ASSIGNMENTS.c.status.in_((_A.ACTIVE, _A.SUBMITTED, _A.REWORK)),
    ),
    Count,
)
_INSERT_ASSIGNMENT = Prepared(
    insert(ASSIGNMENTS)
    .values(
        project_id=bindparam("project"),
        item_id=bindparam("item"),
        user_id=bindparam("user"),
        kind=bindparam("lease_kind"),
        status=_A.ACTIVE,
        annotation_id=bindparam("annotation"),
        expires_at=bindparam("expires"),
    )
    .returning(ASSIGNMENTS.c.id),
    NewId,
)
_ASSIGNMENT = Prepared(select(*_HELD_COLUMNS).where(ASSIGNMENTS.c.id == bindparam("id")), HeldLease)
_ITEM_SHOWN = select(ITEMS.c.id, ITEMS.c.external_id, ITEMS.c.data)
_ITEM = Prepared(_ITEM_SHOWN.where(ITEMS.c.id == bindparam("item")), ItemShown)
_ANSWERS = Prepared(
    select(ANNOTATIONS.c.answers).where(ANNOTATIONS.c.id == bindparam("annotation")), Answers
)
_FEEDBACK = Prepared(
    select(Review.feedback)
    .where(Review.annotation_id == bindparam("annotation"), Review.verdict == Verdict.REJECT)
    .order_by(Review.id.desc())
    .limit(1),
    Feedback,
)


def latest_prediction(item_id: Any) -> Select[Any]:
    """An item's latest prediction: one probe of `ix_predictions_item_latest`."""
    return (
        select(PREDICTIONS.c.model, PREDICTIONS.c.answers.label("suggested"), PREDICTIONS.c.scores)
        .where(PREDICTIONS.c.item_id == item_id)
        .order_by(PREDICTIONS.c.id.desc())
        .limit(1)
    )


_LATEST_PREDICTION = Prepared(latest_prediction(bindparam("item")), PredictionShown)
NO_SUGGESTION = (None, None, None)


def held_select(kinds: tuple[str, ...]) -> Select[Any]:
    """The person's active lease, else their rework."""
    status = ASSIGNMENTS.c.status
    return (
        select(*_HELD_COLUMNS)
        .where(
            ASSIGNMENTS.c.project_id == bindparam("project"),
            ASSIGNMENTS.c.user_id == bindparam("user"),
            ASSIGNMENTS.c.kind.in_(kinds),
            status.in_((_A.ACTIVE, _A.REWORK)),
        )
        .order_by(case((status == _A.ACTIVE, 0), else_=1), ASSIGNMENTS.c.id)
        .limit(1)
    )


def candidate_query(status: str) -> Select[Any]:
    """The first item of one open status with a free slot that this person was never given."""
    # A correlated count, not NOT EXISTS: PostgreSQL may plan the anti-join as a scan of all
    # of the person's assignments per candidate item; the count is one index probe per item.
    taken_before = (
        select(func.count())
        .where(
            ASSIGNMENTS.c.item_id == ITEMS.c.id,
            ASSIGNMENTS.c.user_id == bindparam("user"),
            ASSIGNMENTS.c.kind.in_(LABELING_KINDS),
        )
        .scalar_subquery()
    )
    return (
        _ITEM_SHOWN.where(
            ITEMS.c.project_id == bindparam("project"),
            ITEMS.c.status == status,
            # Free slots as an expression: PostgreSQL then estimates this filter alike with
            # and without the overlap's value, and plans the statement once (its generic
            # plan otherwise looked costlier and it planned on every call).
            bindparam("overlap", type_=ITEMS.c.slots_used.type) - ITEMS.c.slots_used > 0,
            ~ITEMS.c.on_hold,
            taken_before == 0,
            ~exists().where(GoldAnswer.item_id == ITEMS.c.id),  # gold is never ordinary work
        )
        .order_by(ITEMS.c.priority.desc(), ITEMS.c.id)
        .limit(1)
    )


# --- submitting ----------------------------------------------------------------------------

_ASSIGNMENT_COLUMNS = (
    ASSIGNMENTS.c.id,
    ASSIGNMENTS.c.project_id,
    ASSIGNMENTS.c.item_id,
    ASSIGNMENTS.c.user_id,
    ASSIGNMENTS.c.kind,
    ASSIGNMENTS.c.status,
    ASSIGNMENTS.c.annotation_id,
    _MEMBERSHIPS.c.role,  # the holder's role in the assignment's project now
)
_ITEM_COLUMNS = (
    ITEMS.c.id,
    ITEMS.c.project_id,
    ITEMS.c.status,
    ITEMS.c.slots_used,
    ITEMS.c.data,
    ITEMS.c.final_answers,
    type_coerce(PROJECTS.c.spec, Text).label("spec"),  # parsed once per distinct spec
)
_WITH_ROLE = ASSIGNMENTS.outerjoin(
    _MEMBERSHIPS,
    (_MEMBERSHIPS.c.project_id == ASSIGNMENTS.c.project_id)
    & (_MEMBERSHIPS.c.user_id == ASSIGNMENTS.c.user_id),
)
_WITH_SPEC = ITEMS.join(PROJECTS, PROJECTS.c.id == ITEMS.c.project_id)
_LOCK_ASSIGNMENT = Prepared(
    select(*_ASSIGNMENT_COLUMNS)
    .select_from(_WITH_ROLE)
    .where(ASSIGNMENTS.c.id == bindparam("assignment"))
    .with_for_update(of=ASSIGNMENTS),
    LockedAssignment,
)
_LOCK_ITEM = Prepared(
    select(*_ITEM_COLUMNS)
    .select_from(_WITH_SPEC)
    .where(ITEMS.c.id == bindparam("item"))
    .with_for_update(of=ITEMS),
    LockedItem,
)
# Both in one statement, for submit: PostgreSQL locks the rows in the order of `of`. Its rows
# are split into their parts by `for_submit`.
LOCK_BOTH = (
    select(*_ASSIGNMENT_COLUMNS, *_ITEM_COLUMNS)
    .select_from(_WITH_ROLE.join(_WITH_SPEC, ITEMS.c.id == ASSIGNMENTS.c.item_id))
    .where(ASSIGNMENTS.c.id == bindparam("assignment"))
    .with_for_update(of=[ASSIGNMENTS, ITEMS])
)
_SPLIT = len(_ASSIGNMENT_COLUMNS)
_SUGGESTION_AT = _SPLIT + len(_ITEM_COLUMNS)


def for_submit(row: tuple[Any, ...]) -> ForSubmit:
    """A row of LOCK_BOTH, with the prediction's columns after the item's (NULL: none)."""
    found = row[_SUGGESTION_AT:]
    prediction = PredictionShown(*found) if found and found[0] is not None else None
    return ForSubmit(
        LockedAssignment(*row[:_SPLIT]), LockedItem(*row[_SPLIT:_SUGGESTION_AT]), prediction
    )


_LOCK_ANNOTATION = Prepared(
    select(
        ANNOTATIONS.c.id,
        ANNOTATIONS.c.project_id,
        ANNOTATIONS.c.item_id,
        ANNOTATIONS.c.user_id,
        ANNOTATIONS.c.revision,
        ANNOTATIONS.c.answers,
    )
    .where(ANNOTATIONS.c.id == bindparam("annotation"))
    .with_for_update(),
    LockedAnnotation,
)
_REVISION = Prepared(
    select(ANNOTATIONS.c.revision).where(ANNOTATIONS.c.id == bindparam("annotation")), Revision
)
# Every answer records the guideline version in force, read inside the statement itself: no
# extra round trip, and read in the writer's own transaction.
IN_FORCE = {
    "guideline_version": select(func.max(GuidelineVersion.number))
    .where(GuidelineVersion.project_id == bindparam("guidelines_of"))
    .scalar_subquery()
}
INSERT_REVISION = Prepared(insert(REVISIONS).values(IN_FORCE))
_UPDATE_ANNOTATION = Prepared(
    update(ANNOTATIONS)
    .where(ANNOTATIONS.c.id == bindparam("annotation"))
    .values(IN_FORCE)
    .returning(ANNOTATIONS.c.revision, ANNOTATIONS.c.guideline_version),
    InForce,
)
_UPDATE_ITEM = Prepared(update(ITEMS).where(ITEMS.c.id == bindparam("item")))


def finish_statement(annotation_id: Any) -> Update:
    return (
        update(ASSIGNMENTS)
        .where(ASSIGNMENTS.c.id == bindparam("assignment"))
        .values(
            status=_A.SUBMITTED,
            finished_at=bindparam("moment"),
            annotation_id=func.coalesce(annotation_id, ASSIGNMENTS.c.annotation_id),
        )
    )


_FINISH = Prepared(finish_statement(bindparam("annotation")))
_REWORK_OF = Prepared(
    select(ASSIGNMENTS.c.id, ASSIGNMENTS.c.kind, ASSIGNMENTS.c.status)
    .where(
        ASSIGNMENTS.c.annotation_id == bindparam("annotation"),
        ASSIGNMENTS.c.kind.in_(LABELING_KINDS),
    )
    .with_for_update(),
    AssignmentState,
)
ANNOTATIONS_OF_ITEM = (
    select(
        ANNOTATIONS.c.id,
        ANNOTATIONS.c.answers,
        ANNOTATIONS.c.review_status,
        ANNOTATIONS.c.guideline_version,
    )
    .where(ANNOTATIONS.c.item_id == bindparam("item"))
    .order_by(ANNOTATIONS.c.id)
)
_ITEM_ANNOTATIONS = Prepared(ANNOTATIONS_OF_ITEM, AnnotationState)


def answer_values(answers: dict[str, Any], time_ms: int | None, project_id: int) -> dict[str, Any]:
    """What one answer writes, alike to its annotation and to the annotation's revision."""
    return {"answers": answers, "time_ms": time_ms, "guidelines_of": project_id}


def prelabel_values(prelabel: Prelabel) -> dict[str, Any]:
    """What a first answer records of the suggestion it was given with."""
    return prelabel._asdict()


# --- the audit trail ------------------------------------------------------------------------

EVENT_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def event_params(fields: dict[str, Any]) -> dict[str, Any]:
    """An event's fields as the append statements' parameters (the store sets the seq)."""
    return {f"e_{name}": value for name, value in fields.items() if name != "seq"}


class CommonStore:
    """The statements both stores run alike, bound to one unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # routing

    def taken(self, project_id: int, user_id: int) -> int:
        return _TAKEN.one(self.connection, {"project": project_id, "user": user_id}).n

    def item(self, item_id: int) -> ItemShown:
        return _ITEM.one(self.connection, {"item": item_id})

    def assignment(self, assignment_id: int) -> HeldLease:
        return _ASSIGNMENT.one(self.connection, {"id": assignment_id})

    def lease(
        self,
        project_id: int,
        item_id: int,
        user_id: int,
        kind: AssignmentKind,
        expires_at: datetime,
        annotation_id: int | None = None,
    ) -> int:
        """Lease the item to the person; the new assignment's id."""
        params = {
            "project": project_id,
            "item": item_id,
            "user": user_id,
            "lease_kind": kind,
            "annotation": annotation_id,
            "expires": expires_at,
        }
        return _INSERT_ASSIGNMENT.one(self.connection, params).id

    def latest_prediction(self, item_id: int) -> PredictionShown | None:
        return _LATEST_PREDICTION.first(self.connection, {"item": item_id})

    def answers_of(self, annotation_id: int) -> dict[str, Any]:
        return _ANSWERS.one(self.connection, {"annotation": annotation_id}).answers

    def feedback_on(self, annotation_id: int) -> str | None:
        row = _FEEDBACK.first(self.connection, {"annotation": annotation_id})
        return None if row is None else row.feedback

    def release_slots(self, item_ids: list[int]) -> None:
        """Annotation slots came free; an item nobody holds any more is new again."""
        for item_id in sorted(item_ids):  # in id order: two routers freeing alike cannot deadlock
            _RELEASE_SLOT.all(self.connection, {"item": item_id})

    # submitting

    def lock_assignment(self, assignment_id: int) -> LockedAssignment | None:
        return _LOCK_ASSIGNMENT.first(self.connection, {"assignment": assignment_id})

    def lock_item(self, item_id: int) -> LockedItem:
        return _LOCK_ITEM.one(self.connection, {"item": item_id})

    def lock_annotation(self, annotation_id: int) -> LockedAnnotation | None:
        return _LOCK_ANNOTATION.first(self.connection, {"annotation": annotation_id})

    def revision_of(self, annotation_id: int) -> int:
        return _REVISION.one(self.connection, {"annotation": annotation_id}).revision

    def item_annotations(self, item_id: int) -> list[AnnotationState]:
        return _ITEM_ANNOTATIONS.all(self.connection, {"item": item_id})

    def revise(
        self,
        annotation: LockedAnnotation,
        answers: dict[str, Any],
        time_ms: int | None,
        moment: datetime,
    ) -> InForce:
        """A new revision of a locked annotation (the locked one's number plus one), back to
        awaiting review."""
        revision = annotation.revision + 1
        values = answer_values(answers, time_ms, annotation.project_id)
        changed = {"revision": revision, "updated_at": moment}
        written = _UPDATE_ANNOTATION.one(
            self.connection,
            {
                **values,
                **changed,
                "annotation": annotation.id,
                "review_status": ReviewStatus.SUBMITTED,
            },
        )
        INSERT_REVISION.all(
            self.connection, {**values, "annotation_id": annotation.id, "revision": revision}
        )
        return written

    def finish(
        self, assignment_id: int, moment: datetime, annotation_id: int | None = None
    ) -> None:
        params = {"assignment": assignment_id, "annotation": annotation_id, "moment": moment}
        _FINISH.all(self.connection, params)

    def rework_of(self, annotation_id: int) -> AssignmentState:
        """The annotate (or gold) assignment that made the annotation, locked."""
        return _REWORK_OF.one(self.connection, {"annotation": annotation_id})

    def save_item(self, item_id: int, status: ItemStatus, slots_used: int) -> None:
        """`done_at` follows the status: the moment it became done, or None (dashboard)."""
        done_at = now() if status == _I.DONE else None
        params = {"item": item_id, "status": status, "slots_used": slots_used, "done_at": done_at}
        _UPDATE_ITEM.all(self.connection, params)

    def settle_item(self, item_id: int, final_answers: dict[str, Any], final_by: int) -> None:
        params = {"item": item_id, "final_answers": final_answers, "final_by": final_by}
        _UPDATE_ITEM.all(self.connection, params)
