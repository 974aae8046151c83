"""The labeling store: every statement of the labeling hot path, behind one interface with
one implementation per database (as httpx has one transport per way of sending).

The domain (`services/`) asks `store(session)` for the store of its unit of work and never
looks at which database it runs on. SQLite runs writers one at a time, so its store takes
each step as a cheap statement of its own; PostgreSQL runs them side by side, so its store
takes the same steps in as few round trips as it can, locking what competing writers share.
Both answer the same typed rows (`rows.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from labelwise.db.labeling._common import ItemRow
from labelwise.db.labeling.postgresql import PostgreSQLStore
from labelwise.db.labeling.rows import (
    AnnotationState,
    AssignmentState,
    ForSubmit,
    HeldLease,
    InForce,
    ItemShown,
    Leased,
    LockedAnnotation,
    LockedAssignment,
    LockedItem,
    PredictionShown,
    Prelabel,
    ProjectAccess,
)
from labelwise.db.labeling.sqlite import SQLiteStore
from labelwise.states import AssignmentKind, ItemStatus

__all__ = [
    "AnnotationState",
    "ForSubmit",
    "InForce",
    "ItemRow",
    "LabelingStore",
    "LockedAnnotation",
    "LockedAssignment",
    "LockedItem",
    "PredictionShown",
    "Prelabel",
    "store",
]


class LabelingStore(Protocol):
    """What the labeling path asks of the database, inside one unit of work.

    A method documented as "last" may end the unit of work (PostgreSQL sends the COMMIT with
    it); the caller must do nothing more in it.
    """

    connection: Connection

    # routing
    def open_for_person(self, slug: str, user_id: int) -> ProjectAccess | None:
        """The project and the person's role there; their decisions in it are theirs alone
        until the unit of work ends (the person lock)."""

    def lock_person(self, project_id: int, user_id: int) -> None:
        """The person lock alone, for routing that read the project already."""

    def expire_then_held(
        self, project_id: int, user_id: int, kinds: tuple[str, ...], moment: datetime
    ) -> HeldLease | None:
        """Free the slots of the project's leases that ran out by `moment`; the person's live
        lease of those kinds, else their rework."""

    def taken(self, project_id: int, user_id: int) -> int:
        """Items the person holds or did (their workload, for the cap)."""

    def lease_first_free(
        self, project_id: int, user_id: int, overlap: int, expires_at: datetime, suggest: bool
    ) -> Leased | None:
        """Lease the first open item with a free slot that the person never had (started
        items first, then by priority and import order), taking its slot. Last. `suggest`:
        the item's latest prediction is wanted with it."""

    def lease(
        self,
        project_id: int,
        item_id: int,
        user_id: int,
        kind: AssignmentKind,
        expires_at: datetime,
        annotation_id: int | None = None,
    ) -> int:
        """Lease a chosen item (gold, review, adjudication): the assignment's id."""

    def item(self, item_id: int) -> ItemShown: ...
    def latest_prediction(self, item_id: int) -> PredictionShown | None:
        """The item's latest prediction (the highest id): one index probe."""

    def assignment(self, assignment_id: int) -> HeldLease: ...
    def answers_of(self, annotation_id: int) -> dict[str, Any]: ...
    def feedback_on(self, annotation_id: int) -> str | None:
        """The latest rejection's feedback."""

    def release_slots(self, item_ids: list[int]) -> None:
        """Annotation slots came free; an item nobody holds any more is new again."""

    # submitting: rows are locked assignment first, then item, then annotation
    def lock_assignment(self, assignment_id: int) -> LockedAssignment | None: ...
    def lock_for_submit(self, assignment_id: int) -> ForSubmit | None:
        """`lock_assignment`, then `lock_item` of its item, in one round trip, and the item's
        latest prediction (on PostgreSQL in the same round trip)."""

    def lock_item(self, item_id: int) -> LockedItem: ...
    def lock_annotation(self, annotation_id: int) -> LockedAnnotation | None: ...
    def revision_of(self, annotation_id: int) -> int: ...
    def item_annotations(self, item_id: int) -> list[AnnotationState]:
        """In id order."""

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
        """Save a first answer (annotation, revision 1, the guideline version in force, what
        it made of the suggestion shown) and finish its assignment: the item's annotations,
        the new one last."""

    def revise(
        self,
        annotation: LockedAnnotation,
        answers: dict[str, Any],
        time_ms: int | None,
        moment: datetime,
    ) -> InForce:
        """A new revision (the locked one's number plus one), back to awaiting review: the
        guideline version it was written under, for its audit event."""

    def finish(
        self, assignment_id: int, moment: datetime, annotation_id: int | None = None
    ) -> None: ...
    def rework_of(self, annotation_id: int) -> AssignmentState: ...
    def save_item(self, item_id: int, status: ItemStatus, slots_used: int) -> None: ...
    def settle_item(self, item_id: int, final_answers: dict[str, Any], final_by: int) -> None:
        """An adjudicator's final answer."""

    # the audit trail
    def append_event(self, fields: dict[str, Any], *, last: bool = False) -> None:
        """Append to the event's chain (`audit_chain`): the chain's head stays locked until
        the unit of work ends. `last`: nothing follows in the unit of work."""

    # imports
    def begin_import(self, project_id: int) -> None:
        """One bulk write of items (an import, a priorities call) at a time per project."""

    def insert_items(self, project_id: int, batch: list[ItemRow]) -> int:
        """Insert the items not there yet (by external id or content): how many were new."""

    def refresh_item_statistics(self, created: int) -> None:
        """The last step of an import that added `created` items, in its unit of work."""

    def set_priorities(self, project_id: int, batch: list[tuple[str, float]]) -> list[str]:
        """Give the project's items, by external id (each once), these priorities: the ids
        that were found."""


_STORES: dict[str, Callable[[Connection], LabelingStore]] = {
    "sqlite": SQLiteStore,
    "postgresql": PostgreSQLStore,
}


def store(session: Session) -> LabelingStore:
    """The labeling store of this unit of work (a session is one unit of work: `Database`)."""
    found: LabelingStore | None = session.info.get("labeling_store")
    if found is None:
        connection = session.connection()
        found = session.info["labeling_store"] = _STORES[connection.dialect.name](connection)
    return found
