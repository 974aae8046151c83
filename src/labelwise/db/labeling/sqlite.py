"""The labeling store on SQLite: writers run one at a time (BEGIN IMMEDIATE and the writer
lock), so each step is its own cheap in-process statement and nothing needs locking rows."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import bindparam, insert, update
from sqlalchemy.dialects import sqlite

from labelwise.db.audit_chain import GENESIS, event_hash
from labelwise.db.labeling import _common as common
from labelwise.db.labeling.rows import (
    AnnotationState,
    ChainHead,
    ForSubmit,
    HeldLease,
    ItemShown,
    Leased,
    NewId,
    Prelabel,
    ProjectAccess,
)
from labelwise.db.prepared import Prepared
from labelwise.states import OPEN_ITEMS, AssignmentKind


class _Expired(NamedTuple):
    item_id: int
    kind: str


_PROJECT_ACCESS = Prepared(common.PROJECT_ACCESS, ProjectAccess)
_EXPIRE = Prepared(common.EXPIRING, _Expired)
# The first started item, else the first new one; then the lease and the slot.
_CANDIDATES = [Prepared(common.candidate_query(status), ItemShown) for status in OPEN_ITEMS]
_TAKE_SLOT = Prepared(common.take_slot(bindparam("item")))
_LOCK_BOTH = Prepared(common.LOCK_BOTH, tuple)
_INSERT_ANNOTATION = Prepared(
    insert(common.ANNOTATIONS).values(common.IN_FORCE).returning(common.ANNOTATIONS.c.id), NewId
)


@functools.cache
def _held(kinds: tuple[str, ...]) -> Prepared[HeldLease]:
    return Prepared(common.held_select(kinds), HeldLease)


# Take the next seq and the hash to link to, creating the head on a chain's first event; then
# the event goes in and the head takes its hash.
_EVENTS, _HEADS = common.EVENTS, common.HEADS
_ADVANCE = Prepared(
    sqlite.insert(_HEADS)
    .values(chain=bindparam("c"), seq=1, hash=GENESIS)
    .on_conflict_do_update(index_elements=[_HEADS.c.chain], set_={"seq": _HEADS.c.seq + 1})
    .returning(_HEADS.c.seq, _HEADS.c.hash),
    ChainHead,
)
_INSERT_EVENT = Prepared(
    _EVENTS.insert().values({name: bindparam(f"e_{name}") for name in common.EVENT_COLUMNS})
)
_SET_HEAD_HASH = Prepared(
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("e_chain"))
    .values(hash=bindparam("e_hash"), prev_hash=bindparam("e_prev_hash"))
)
# The whole batch goes as one JSON array and one statement inserts it: far less per-row work
# in Python than executemany, and the GIL is free while SQLite works.
# (`WHERE true` settles a parsing ambiguity between INSERT ... SELECT and ON CONFLICT.)
_INSERT_ITEMS = (
    "INSERT INTO items (project_id, external_id, content_hash, data, priority) "
    "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), coalesce(json_extract(value, '$[3]'), 0) "
    "FROM json_each(?) WHERE true ON CONFLICT DO NOTHING"
)
# Priorities: the batch as one JSON array of [external id, priority] pairs, looked up pair by
# pair (CROSS JOIN keeps that order: without statistics the planner would rather scan the
# project's items once per pair, 100 ids/s), then each found item updated by its rowid.
_FIND_ITEMS = (
    "SELECT items.id, json_extract(given.value, '$[1]'), items.external_id "
    "FROM json_each(:batch) AS given CROSS JOIN items WHERE items.project_id = :project "
    "AND items.external_id = json_extract(given.value, '$[0]')"
)
_SET_PRIORITY = "UPDATE items SET priority = ? WHERE id = ?"


class SQLiteStore(common.CommonStore):
    def open_for_person(self, slug: str, user_id: int) -> ProjectAccess | None:
        return _PROJECT_ACCESS.first(self.connection, {"slug": slug, "user": user_id})

    def lock_person(self, project_id: int, user_id: int) -> None:
        """Nothing to take: one writer at a time already decides for one person at a time."""

    def expire_then_held(
        self, project_id: int, user_id: int, kinds: tuple[str, ...], moment: datetime
    ) -> HeldLease | None:
        expired = _EXPIRE.all(self.connection, {"project": project_id, "moment": moment})
        self.release_slots([e.item_id for e in expired if e.kind == AssignmentKind.ANNOTATE])
        return _held(kinds).first(self.connection, {"project": project_id, "user": user_id})

    def lease_first_free(
        self, project_id: int, user_id: int, overlap: int, expires_at: datetime, suggest: bool
    ) -> Leased | None:
        params = {"project": project_id, "user": user_id, "overlap": overlap}
        for candidate in _CANDIDATES:
            item = candidate.first(self.connection, params)
            if item is not None:
                kind = AssignmentKind.ANNOTATE
                assignment_id = self.lease(project_id, item.id, user_id, kind, expires_at)
                _TAKE_SLOT.all(self.connection, {"item": item.id})
                found = self.latest_prediction(item.id) if suggest else None
                return Leased(assignment_id, *item, *(found or common.NO_SUGGESTION))
        return None

    def lock_for_submit(self, assignment_id: int) -> ForSubmit | None:
        """The assignment and its item, then the item's latest prediction: two in-process
        statements are cheaper than one joining them."""
        row = _LOCK_BOTH.first(self.connection, {"assignment": assignment_id})
        if row is None:
            return None
        locked = common.for_submit(row)
        return locked._replace(prediction=self.latest_prediction(locked.item.id))

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
        values = common.answer_values(answers, time_ms, project_id)
        inserted = {"project_id": project_id, "user_id": user_id, "item_id": item_id}
        written = {**values, **inserted, **common.prelabel_values(prelabel)}
        annotation_id = _INSERT_ANNOTATION.one(self.connection, written).id
        common.INSERT_REVISION.all(
            self.connection, {**values, "annotation_id": annotation_id, "revision": 1}
        )
        self.finish(assignment_id, moment, annotation_id)
        return self.item_annotations(item_id)

    def append_event(self, fields: dict[str, Any], *, last: bool = False) -> None:
        params = common.event_params(fields)
        head = _ADVANCE.one(self.connection, {"c": fields["chain"]})
        fields = {**fields, "seq": head.seq}
        link = event_hash(head.hash, fields)
        params.update(e_seq=head.seq, e_prev_hash=head.hash, e_hash=link)
        _INSERT_EVENT.all(self.connection, params)
        _SET_HEAD_HASH.all(self.connection, params)

    def begin_import(self, project_id: int) -> None:
        """Nothing to take: imports are writers, and writers run one at a time."""

    def insert_items(self, project_id: int, batch: list[common.ItemRow]) -> int:
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(_INSERT_ITEMS, (project_id, orjson.dumps(batch).decode()))
        return int(cursor.rowcount)

    def refresh_item_statistics(self, created: int) -> None:
        """SQLite keeps none the planner relies on (db.pages says how pages cope)."""

    def set_priorities(self, project_id: int, batch: list[tuple[str, float]]) -> list[str]:
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        params = {"batch": orjson.dumps(batch).decode(), "project": project_id}
        found = cursor.execute(_FIND_ITEMS, params).fetchall()
        cursor.executemany(_SET_PRIORITY, [(priority, item) for item, priority, _ in found])
        return [external_id for _, _, external_id in found]
