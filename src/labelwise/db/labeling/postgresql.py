"""The labeling store on PostgreSQL: each step in as few round trips as it can go.

Writers run side by side here, across server processes: candidates are taken with FOR UPDATE
SKIP LOCKED, each person's decisions queue on an advisory lock, and the statements that end
a unit of work send their COMMIT in the same round trip (`Prepared.all(commit=True)`), so the
rows every writer waits on (an item, a project's audit head) are held as briefly as possible.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    LargeBinary,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql

from labelwise.db.audit_chain import GENESIS, around_seq
from labelwise.db.labeling import _common as common
from labelwise.db.labeling.rows import (
    AnnotationState,
    ForSubmit,
    HeldLease,
    Leased,
    Prelabel,
    ProjectAccess,
)
from labelwise.db.prepared import NoRows, Prepared
from labelwise.states import OPEN_ITEMS, AssignmentKind, AssignmentStatus

_ASSIGNMENTS, _ITEMS, _ANNOTATIONS = common.ASSIGNMENTS, common.ITEMS, common.ANNOTATIONS
# New items after which an import refreshes the planner's statistics at once: until autovacuum
# gets to it, the planner takes a big project for a few rows and picks plans (a sort of every
# item per page of an export) that grow with the square of the size.
ANALYZE_AFTER = 10_000


def _person_lock(project_id: Any, user_id: Any) -> ColumnElement[Any]:
    """The transaction's lock on (project, person): one lease decision per person at a time,
    across every server process."""
    return func.pg_advisory_xact_lock(cast(project_id, Integer), cast(user_id, Integer))


class _Locked(NamedTuple):
    locked: None


class _LockedAccess(NamedTuple):
    id: int
    spec: str
    role: str | None
    locked: None


# The project, the caller's role and the person lock in one round trip. The lock is taken
# before the caller's rights are checked: it is the caller's own, and goes with the
# transaction if they may not go on.
_PROJECT_ACCESS = Prepared(
    common.PROJECT_ACCESS.add_columns(
        _person_lock(common.PROJECTS.c.id, bindparam("user")).label("locked")
    ),
    _LockedAccess,
)
_PERSON_LOCK = Prepared(
    select(_person_lock(bindparam("project"), bindparam("user")).label("locked")), _Locked
)


class _ExpiredAndHeld(NamedTuple):
    freed: list[int] | None
    id: int | None
    kind: str | None
    status: str | None
    item_id: int | None
    annotation_id: int | None
    expires_at: datetime | None


@functools.cache
def _expire_and_held(kinds: tuple[str, ...]) -> Prepared[_ExpiredAndHeld]:
    """The expiry and the held lease in one round trip. Always one row: the items whose slots
    came free (`freed`) and the held lease's columns (NULL for none). The lease is read as it
    was before the expiry, so a live one is told by its time."""
    expired = common.EXPIRING.cte("expired")
    freed = (
        select(func.array_agg(expired.c.item_id).label("freed"))
        .where(expired.c.kind == AssignmentKind.ANNOTATE)
        .subquery("freed")
    )
    live = or_(
        _ASSIGNMENTS.c.status == AssignmentStatus.REWORK,
        _ASSIGNMENTS.c.expires_at >= bindparam("moment"),
    )
    held = common.held_select(kinds).where(live).subquery("held")
    return Prepared(
        select(freed.c.freed, *held.c).select_from(freed.outerjoin(held, true())).add_cte(expired),
        _ExpiredAndHeld,
    )


def _lease_first_free() -> Prepared[Leased]:
    """The first free item, its lease and its slot in one statement, skipping the rows other
    routers hold. The union stops at its first row, so new items are searched only when no
    started one is free; `picked` is read twice, so it is evaluated once. The item's latest
    prediction comes in the same round trip (one index probe, `LATERAL`)."""
    first = [
        select(common.candidate_query(status).with_for_update(skip_locked=True).cte(status))
        for status in OPEN_ITEMS
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
                literal(AssignmentKind.ANNOTATE.value),
                literal(AssignmentStatus.ACTIVE.value),
                bindparam("expires", type_=_ASSIGNMENTS.c.expires_at.type),
            ),
        )
        .returning(_ASSIGNMENTS.c.id, _ASSIGNMENTS.c.item_id)
        .cte("lease")
    )
    slot = common.take_slot(select(lease.c.item_id).scalar_subquery()).cte("slot")
    suggested = common.latest_prediction(picked.c.id).lateral("suggestion")
    return Prepared(
        select(
            lease.c.id.label("assignment_id"),
            picked.c.id,
            picked.c.external_id,
            picked.c.data,
            *suggested.c,
        )
        .join_from(lease, picked, picked.c.id == lease.c.item_id)
        .outerjoin(suggested, true())
        .add_cte(slot),
        Leased,
    )


_LEASE_FIRST_FREE = _lease_first_free()


def _new_annotation() -> Prepared[AnnotationState]:
    """The annotation, its first revision and the finished assignment in one statement, which
    answers the item's annotations, the new one last (its snapshot does not see the new row:
    it is added from the INSERT's RETURNING)."""
    answer: dict[str, Any] = {"answers": bindparam("answers"), "time_ms": bindparam("time_ms")}
    annotation = (
        insert(_ANNOTATIONS)
        .values(
            project_id=bindparam("project_id"),
            item_id=bindparam("item"),
            user_id=bindparam("user_id"),
            **answer,
            **{name: bindparam(name) for name in Prelabel._fields},
            **common.IN_FORCE,
        )
        .returning(*common.ANNOTATIONS_OF_ITEM.selected_columns)
        .cte("annotation")
    )
    revisions = common.REVISIONS
    revision = insert(revisions).from_select(
        ["annotation_id", "revision", "answers", "time_ms", "guideline_version"],
        select(
            annotation.c.id,
            literal(1),
            *(bindparam(name, type_=revisions.c[name].type) for name in answer),
            annotation.c.guideline_version,
        ),
    )
    finished = common.finish_statement(select(annotation.c.id).scalar_subquery())
    earlier = common.ANNOTATIONS_OF_ITEM.order_by(None)
    new = select(
        annotation.c.id,
        annotation.c.answers,
        annotation.c.review_status,
        annotation.c.guideline_version,
    )
    return Prepared(
        earlier.union_all(new)
        .order_by("id")
        .add_cte(revision.cte("revision"), finished.cte("finished")),
        AnnotationState,
    )


_NEW_ANNOTATION = _new_annotation()
# Submit's first statement: the assignment and its item locked, and the item's latest
# prediction (one index probe, `LATERAL`) in the same round trip.
_SUGGESTED = common.latest_prediction(common.ITEMS.c.id).lateral("suggestion")
_LOCK_FOR_SUBMIT = Prepared(
    common.LOCK_BOTH.add_columns(*_SUGGESTED.c).outerjoin(_SUGGESTED, true()), tuple
)
_EVENTS, _HEADS = common.EVENTS, common.HEADS


def _link(prev_hash: ColumnElement[Any], seq: ColumnElement[Any]) -> ColumnElement[str]:
    """`audit_chain.event_hash` computed by PostgreSQL, from the canonical bytes around the
    seq."""

    def as_bytes(value: ColumnElement[Any]) -> ColumnElement[bytes]:
        return func.convert_to(value, "UTF8", type_=LargeBinary)

    parts = (
        as_bytes(prev_hash),
        bindparam("e_head", type_=LargeBinary),
        as_bytes(cast(seq, Text)),
        bindparam("e_tail", type_=LargeBinary),
    )
    message = functools.reduce(lambda a, b: a.op("||", return_type=LargeBinary)(b), parts)
    return func.encode(func.sha256(message, type_=LargeBinary), "hex", type_=Text)


def _append_event() -> Prepared[NoRows]:
    """One statement moves the head (locking it until commit, creating it on the chain's
    first event), hashes the event with the seq it took, and inserts the event.

    The head is the one row every append to a project waits on, so it is held for this
    statement and the commit only, not across round trips to the server and back.
    """
    head = (
        postgresql.insert(_HEADS)
        .values(
            chain=bindparam("e_chain"),
            seq=1,
            prev_hash=GENESIS,
            hash=_link(literal(GENESIS), literal(1)),
        )
        .on_conflict_do_update(
            index_elements=[_HEADS.c.chain],
            set_={
                "seq": _HEADS.c.seq + 1,
                "prev_hash": _HEADS.c.hash,
                "hash": _link(_HEADS.c.hash, _HEADS.c.seq + 1),
            },
        )
        .returning(_HEADS.c.seq, _HEADS.c.prev_hash, _HEADS.c.hash)
        .cte("head")
    )
    taken = {"seq": head.c.seq, "prev_hash": head.c.prev_hash, "hash": head.c.hash}
    values = [
        taken.get(name, bindparam(f"e_{name}", type_=_EVENTS.c[name].type))
        for name in common.EVENT_COLUMNS
    ]
    return Prepared(
        _EVENTS.insert().from_select(common.EVENT_COLUMNS, select(*values)).add_cte(head)
    )


_APPEND_EVENT = _append_event()
# Two imports inserting the same keys in different orders would each wait for a row the
# other holds, and PostgreSQL would abort one of them as a deadlock: one at a time per project.
_IMPORT_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('labelwise.import'), CAST(:project AS integer))"
)
# The batch as two arrays in one statement; the items are locked in id order first, as
# `release_slots` locks them, so a bulk update and a router cannot deadlock.
_SET_PRIORITIES = text(
    "WITH given AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:priorities AS float8[])) "
    "AS g (external_id, priority)), "
    "locked AS (SELECT items.id, given.priority FROM items JOIN given "
    "ON items.external_id = given.external_id WHERE items.project_id = :project "
    "ORDER BY items.id FOR UPDATE OF items) "
    "UPDATE items SET priority = locked.priority FROM locked WHERE items.id = locked.id "
    "RETURNING items.external_id"
)


class PostgreSQLStore(common.CommonStore):
    def open_for_person(self, slug: str, user_id: int) -> ProjectAccess | None:
        row = _PROJECT_ACCESS.first(self.connection, {"slug": slug, "user": user_id})
        return None if row is None else ProjectAccess(row.id, row.spec, row.role)

    def lock_person(self, project_id: int, user_id: int) -> None:
        _PERSON_LOCK.all(self.connection, {"project": project_id, "user": user_id})

    def expire_then_held(
        self, project_id: int, user_id: int, kinds: tuple[str, ...], moment: datetime
    ) -> HeldLease | None:
        params = {"project": project_id, "user": user_id, "moment": moment}
        row = _expire_and_held(kinds).one(self.connection, params)
        self.release_slots(row.freed or [])
        return None if row.id is None else HeldLease(*row[1:])  # type: ignore[arg-type]

    def lease_first_free(
        self, project_id: int, user_id: int, overlap: int, expires_at: datetime, suggest: bool
    ) -> Leased | None:
        """The unit of work's last statement: the commit goes with it. The suggestion comes
        whether asked for or not: it costs no round trip."""
        params = {"project": project_id, "user": user_id, "overlap": overlap, "expires": expires_at}
        return _LEASE_FIRST_FREE.first(self.connection, params, commit=True)

    def lock_for_submit(self, assignment_id: int) -> ForSubmit | None:
        row = _LOCK_FOR_SUBMIT.first(self.connection, {"assignment": assignment_id})
        return None if row is None else common.for_submit(row)

    def new_annotation(
        self,
        assignment_id: int,
        project_id: int,
        item_id: int,
        user_id: int,
        answers: dict[str, Any],
        time_ms: int | None,
        moment: datetime,
        prelabel: Prelabel,
    ) -> list[AnnotationState]:
        params = {
            **common.answer_values(answers, time_ms, project_id),
            **common.prelabel_values(prelabel),
            "project_id": project_id,
            "user_id": user_id,
            "item": item_id,
            "assignment": assignment_id,
            "moment": moment,
        }
        return _NEW_ANNOTATION.all(self.connection, params)

    def append_event(self, fields: dict[str, Any], *, last: bool = False) -> None:
        params = common.event_params(fields)
        params["e_head"], params["e_tail"] = around_seq(fields)
        _APPEND_EVENT.all(self.connection, params, commit=last)

    def begin_import(self, project_id: int) -> None:
        self.connection.execute(_IMPORT_LOCK, {"project": project_id})

    def insert_items(self, project_id: int, batch: list[common.ItemRow]) -> int:
        """COPY into a scratch table, then one INSERT ... SELECT keeps the conflict rules."""
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows "
            "(n bigint, external_id text, content_hash text, data text, priority float8) "
            "ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE import_rows")
        with cursor.copy(
            "COPY import_rows (n, external_id, content_hash, data, priority) FROM STDIN"
        ) as copy:
            for n, row in enumerate(batch):
                copy.write_row((n, *row))
        cursor.execute(
            "INSERT INTO items (project_id, external_id, content_hash, data, priority) "
            "SELECT %s, external_id, content_hash, data, coalesce(priority, 0) "
            "FROM import_rows ORDER BY n "
            "ON CONFLICT DO NOTHING",
            (project_id,),
        )
        return int(cursor.rowcount)

    def refresh_item_statistics(self, created: int) -> None:
        """After a bulk load, as PostgreSQL's manual advises (see ANALYZE_AFTER)."""
        if created >= ANALYZE_AFTER:
            self.connection.execute(text("ANALYZE items"))

    def set_priorities(self, project_id: int, batch: list[tuple[str, float]]) -> list[str]:
        ids, priorities = [i for i, _ in batch], [p for _, p in batch]
        params = {"ids": ids, "priorities": priorities, "project": project_id}
        return list(self.connection.execute(_SET_PRIORITIES, params).scalars())
