"""Who gets which piece of work next: leases, overlap, started-first, priority, caps.

Correctness under concurrency rests on the database, not on this process: on SQLite every
routing transaction is BEGIN IMMEDIATE (one writer at a time); on PostgreSQL the candidate
row is taken with FOR UPDATE SKIP LOCKED and each person's requests queue on an advisory
lock, so two server processes can never hand out the same slot or let one person hoard.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Update

from labelwise.clock import now
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Assignment, Item, Review
from labelwise.db.prepared import Prepared
from labelwise.db.prepared import Record as AnyRow
from labelwise.policies import Action, Actor, authorize
from labelwise.services import gold, projects

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


def next_annotation(db: Database, slug: str, actor: Actor) -> Lease | None:
    """The caller's item to label: their current lease, their rework, or a new item.

    The project and the caller's right to label in it are read in the same unit of work.
    """
    with db.write() as session:
        connection = session.connection()
        # On PostgreSQL the person lock (projects.person_lock) goes with the project's row.
        project_id, spec, role = projects.spec_and_role(
            connection, slug, actor, lock_person=not db.is_sqlite
        )
        authorize(actor, Action.ANNOTATE, role)
        user_id = actor.user_id
        moment, held = _expire_then_held(connection, project_id, user_id, ("annotate", "gold"))
        if held is not None:
            return _lease(connection, held)
        cap = spec.workflow.max_per_annotator
        if cap is not None and _taken(connection, project_id, user_id) >= cap:
            return None
        gold_item = gold.gold_to_serve(session, spec, project_id, user_id)
        if gold_item is False:
            return None  # failed the qualification test
        expires_at = moment + timedelta(minutes=spec.workflow.lease_minutes)
        if gold_item is not None:  # gold items are shared by everyone: they take no slot
            item = _ITEM.one(connection, {"item": gold_item})
            assignment_id = _take(connection, project_id, item.id, user_id, "gold", expires_at)
        else:
            params = {
                "project": project_id,
                "user": user_id,
                "overlap": spec.workflow.overlap,
                "expires": expires_at,
            }
            taken = _take_candidate(connection, params)
            if taken is None:
                return None
            assignment_id, item = taken
        return Lease(assignment_id, "annotate", item.id, item.external_id, item.data, expires_at)


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
        connection = session.connection()
        if not db.is_sqlite:  # one decision per person at a time, across every server process
            _PERSON_LOCK.all(connection, {"project": project_id, "user": user_id})
        moment, held = _expire_then_held(connection, project_id, user_id, (kind,))
        if held is not None:
            return _lease(connection, held)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=_locked_table(kind))
        row = connection.execute(query).first()
        if row is None:
            return None
        expires_at = moment + timedelta(minutes=lease_minutes)
        assignment_id = _take(connection, project_id, row[1], user_id, kind, expires_at, row[0])
        return _lease(connection, _ASSIGNMENT.one(connection, {"id": assignment_id}))


def _locked_table(kind: str) -> Any:
    return Annotation if kind == "review" else Item


# The statements of the hot path are built once and run as prepared statements.
_ASSIGNMENTS = cast(Table, Assignment.__table__)
_ITEMS = cast(Table, Item.__table__)
_HELD_COLUMNS = (
    _ASSIGNMENTS.c.id,
    _ASSIGNMENTS.c.kind,
    _ASSIGNMENTS.c.status,
    _ASSIGNMENTS.c.item_id,
    _ASSIGNMENTS.c.annotation_id,
    _ASSIGNMENTS.c.expires_at,
)
_PERSON_LOCK = Prepared(select(projects.person_lock(bindparam("project"), bindparam("user"))))
_EXPIRING = (
    update(_ASSIGNMENTS)
    .where(
        _ASSIGNMENTS.c.project_id == bindparam("project"),
        _ASSIGNMENTS.c.status == "active",
        _ASSIGNMENTS.c.expires_at < bindparam("moment"),
    )
    .values(status="expired", finished_at=bindparam("moment"))
    .returning(_ASSIGNMENTS.c.item_id, _ASSIGNMENTS.c.kind)
)
_EXPIRE = Prepared(_EXPIRING)
_RELEASE_SLOT = Prepared(
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item"))
    .values(
        slots_used=_ITEMS.c.slots_used - 1,
        status=case(
            (and_(_ITEMS.c.slots_used == 1, _ITEMS.c.status == "in_progress"), "new"),
            else_=_ITEMS.c.status,
        ),
    )
)


def _take_slot(item_id: Any) -> Update:
    return (
        update(_ITEMS)
        .where(_ITEMS.c.id == item_id)
        .values(slots_used=_ITEMS.c.slots_used + 1, status="in_progress")
    )


_TAKE_SLOT = Prepared(_take_slot(bindparam("item")))
_TAKEN = Prepared(
    select(func.count()).where(
        _ASSIGNMENTS.c.project_id == bindparam("project"),
        _ASSIGNMENTS.c.user_id == bindparam("user"),
        _ASSIGNMENTS.c.kind == "annotate",
        _ASSIGNMENTS.c.status.in_(("active", "submitted", "rework")),
    )
)
_INSERT_ASSIGNMENT = Prepared(
    insert(_ASSIGNMENTS)
    .values(
        project_id=bindparam("project"),
        item_id=bindparam("item"),
        user_id=bindparam("user"),
        kind=bindparam("lease_kind"),
        status="active",
        annotation_id=bindparam("annotation"),
        expires_at=bindparam("expires"),
    )
    .returning(_ASSIGNMENTS.c.id)
)
_ASSIGNMENT = Prepared(select(*_HELD_COLUMNS).where(_ASSIGNMENTS.c.id == bindparam("id")))
_ITEM = Prepared(
    select(_ITEMS.c.id, _ITEMS.c.external_id, _ITEMS.c.data).where(_ITEMS.c.id == bindparam("item"))
)
_ANSWERS = Prepared(select(Annotation.answers).where(Annotation.id == bindparam("annotation")))
_FEEDBACK = Prepared(
    select(Review.feedback)
    .where(Review.annotation_id == bindparam("annotation"), Review.verdict == "reject")
    .order_by(Review.id.desc())
    .limit(1)
)


def _candidate_query(status: str) -> Select[Any]:
    """The first item of one open status with a free slot that this person was never given."""
    # A correlated count, not NOT EXISTS: PostgreSQL may plan the anti-join as a scan of all
    # of the person's assignments per candidate item; the count is one index probe per item.
    taken_before = (
        select(func.count())
        .where(
            _ASSIGNMENTS.c.item_id == _ITEMS.c.id,
            _ASSIGNMENTS.c.user_id == bindparam("user"),
            _ASSIGNMENTS.c.kind.in_(("annotate", "gold")),
        )
        .scalar_subquery()
    )
    return (
        select(_ITEMS.c.id, _ITEMS.c.external_id, _ITEMS.c.data)
        .where(
            _ITEMS.c.project_id == bindparam("project"),
            _ITEMS.c.status == status,
            # Free slots as an expression: PostgreSQL then estimates this filter alike with
            # and without the overlap's value, and plans the statement once (its generic
            # plan otherwise looked costlier and it planned on every call).
            bindparam("overlap", type_=_ITEMS.c.slots_used.type) - _ITEMS.c.slots_used > 0,
            ~_ITEMS.c.on_hold,
            taken_before == 0,
            gold.not_gold(_ITEMS.c.id),
        )
        .order_by(_ITEMS.c.priority.desc(), _ITEMS.c.id)
        .limit(1)
    )


# SQLite (writers one at a time): the first started item, else the first new one; then the
# lease and the slot.
_CANDIDATES = [Prepared(_candidate_query(status)) for status in OPEN_STATUSES]


def _take_candidate_pg() -> Prepared:
    """PostgreSQL: all of that in one statement, skipping the rows other routers hold.

    The union stops at its first row, so new items are searched only when no started one
    is free; `picked` is read twice, so it is evaluated once.
    """
    first = [
        select(_candidate_query(status).with_for_update(skip_locked=True).cte(status))
        for status in OPEN_STATUSES
    ]
    picked = union_all(*first).limit(1).cte("picked")

    def typed(name: str) -> BindParameter[Any]:
        return bindparam(name, type_=_ASSIGNMENTS.c[f"{name}_id"].type)

    lease = (
        insert(_ASSIGNMENTS)
        .from_select(
            ["project_id", "item_id", "user_id", "kind", "status", "expires_at"],
            select(
                typed("project"),
                picked.c.id,
                typed("user"),
                literal("annotate"),
                literal("active"),
                bindparam("expires", type_=_ASSIGNMENTS.c.expires_at.type),
            ),
        )
        .returning(_ASSIGNMENTS.c.id, _ASSIGNMENTS.c.item_id)
        .cte("lease")
    )
    slot = _take_slot(select(lease.c.item_id).scalar_subquery()).cte("slot")
    return Prepared(
        select(lease.c.id.label("assignment_id"), picked.c.id, picked.c.external_id, picked.c.data)
        .join_from(lease, picked, picked.c.id == lease.c.item_id)
        .add_cte(slot)
    )


_TAKE_CANDIDATE_PG = _take_candidate_pg()


def _expire_then_held(
    connection: Connection, project_id: int, user_id: int, kinds: tuple[str, ...]
) -> tuple[datetime, AnyRow | None]:
    """Free the slots of leases that ran out; the time, and the person's live lease (asking
    again gives the same item) or else their handed-back rework."""
    moment = now()
    person = {"project": project_id, "user": user_id}
    if connection.dialect.name != "postgresql":
        expired = _EXPIRE.all(connection, {"project": project_id, "moment": moment})
        _release_slots(connection, [item_id for item_id, kind in expired if kind == "annotate"])
        return moment, _held_query(kinds).first(connection, person)
    row = _expire_and_held_pg(kinds).one(connection, {**person, "moment": moment})
    _release_slots(connection, row.freed or [])
    return moment, row if row.id is not None else None


def _release_slots(connection: Connection, item_ids: list[int]) -> None:
    for item_id in sorted(item_ids):  # in id order: two routers freeing alike cannot deadlock
        release_slot(connection, item_id)


def release_slot(connection: Connection, item_id: int) -> None:
    """An annotation slot came free; an item nobody holds any more is new again."""
    _RELEASE_SLOT.all(connection, {"item": item_id})


def _held_select(kinds: tuple[str, ...]) -> Select[Any]:
    """The person's active lease, else their rework."""
    status = _ASSIGNMENTS.c.status
    return (
        select(*_HELD_COLUMNS)
        .where(
            _ASSIGNMENTS.c.project_id == bindparam("project"),
            _ASSIGNMENTS.c.user_id == bindparam("user"),
            _ASSIGNMENTS.c.kind.in_(kinds),
            status.in_(("active", "rework")),
        )
        .order_by(case((status == "active", 0), else_=1), _ASSIGNMENTS.c.id)
        .limit(1)
    )


@functools.cache
def _held_query(kinds: tuple[str, ...]) -> Prepared:
    """SQLite, after the expiry: every active lease is live."""
    return Prepared(_held_select(kinds))


@functools.cache
def _expire_and_held_pg(kinds: tuple[str, ...]) -> Prepared:
    """PostgreSQL: the expiry and the held lease in one round trip. Always one row: the items
    whose slots came free (`freed`) and the held lease's columns (NULL for none). The lease
    is read as it was before the expiry, so a live one is told by its time."""
    expired = _EXPIRING.cte("expired")
    freed = (
        select(func.array_agg(expired.c.item_id).label("freed"))
        .where(expired.c.kind == "annotate")
        .subquery("freed")
    )
    live = or_(_ASSIGNMENTS.c.status == "rework", _ASSIGNMENTS.c.expires_at >= bindparam("moment"))
    held = _held_select(kinds).where(live).subquery("held")
    return Prepared(
        select(freed.c.freed, *held.c).select_from(freed.outerjoin(held, true())).add_cte(expired)
    )


def _taken(connection: Connection, project_id: int, user_id: int) -> int:
    return int(_TAKEN.scalar(connection, {"project": project_id, "user": user_id}))


def _take_candidate(connection: Connection, params: dict[str, Any]) -> tuple[int, AnyRow] | None:
    """Lease the first open item for the person: the assignment's id and the item.

    The unit of work's last statement: on PostgreSQL the commit goes with it.
    """
    if connection.dialect.name == "postgresql":
        row = _TAKE_CANDIDATE_PG.first(connection, params, commit=True)
        return None if row is None else (row.assignment_id, row)
    for candidate in _CANDIDATES:
        item = candidate.first(connection, params)
        if item is not None:
            expires_at = params["expires"]
            assignment_id = _take(
                connection, params["project"], item.id, params["user"], "annotate", expires_at
            )
            _TAKE_SLOT.all(connection, {"item": item.id})
            return assignment_id, item
    return None


def _take(
    connection: Connection,
    project_id: int,
    item_id: int,
    user_id: int,
    kind: str,
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
    return int(_INSERT_ASSIGNMENT.scalar(connection, params))


def _lease(connection: Connection, assignment: AnyRow) -> Lease:
    item = _ITEM.one(connection, {"item": assignment.item_id})
    answers = feedback = None
    if assignment.annotation_id is not None:
        answers = _ANSWERS.scalar(connection, {"annotation": assignment.annotation_id})
    if assignment.status == "rework":
        feedback = _FEEDBACK.scalar(connection, {"annotation": assignment.annotation_id})
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
