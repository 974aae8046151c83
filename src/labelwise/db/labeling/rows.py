"""The rows the labeling store answers: one NamedTuple per statement shape, checked against
the statement's columns when it is compiled (`Prepared`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class ProjectAccess(NamedTuple):
    """A project as the labeling path needs it, and the caller's role there (None: no member)."""

    id: int
    spec: str  # the spec's JSON text, parsed once per distinct text (projects.stored_spec)
    role: str | None


class HeldLease(NamedTuple):
    """A person's assignment, as routing hands it (back) out."""

    id: int
    kind: str
    status: str
    item_id: int
    annotation_id: int | None
    expires_at: datetime


class ItemShown(NamedTuple):
    """What a labeler is shown of an item."""

    id: int
    external_id: str | None
    data: dict[str, Any]


class Leased(NamedTuple):
    """A new lease on the first free item, the item, and its latest prediction (the
    suggestion's columns are None when it has none, or none was asked for)."""

    assignment_id: int
    id: int
    external_id: str | None
    data: dict[str, Any]
    model: str | None
    suggested: dict[str, Any] | None
    scores: dict[str, Any] | None


class PredictionShown(NamedTuple):
    """An item's latest prediction, as a labeler is shown it."""

    model: str
    suggested: dict[str, Any]
    scores: dict[str, Any] | None


class Prelabel(NamedTuple):
    """What an annotation records of the suggestion shown when it was made (all None: none)."""

    prelabel_model: str | None
    prelabel_outcome: str | None
    prelabel: dict[str, Any] | None


class LockedAssignment(NamedTuple):
    """An assignment locked for its unit of work, with its holder's role in the project now."""

    id: int
    project_id: int
    item_id: int
    user_id: int
    kind: str
    status: str
    annotation_id: int | None
    role: str | None


class LockedItem(NamedTuple):
    """An item locked for its unit of work, with its project's spec (JSON text)."""

    id: int
    project_id: int
    status: str
    slots_used: int
    data: dict[str, Any]
    final_answers: dict[str, Any] | None
    spec: str


class ForSubmit(NamedTuple):
    """What a submit locks and reads first: the assignment, its item, and the item's latest
    prediction (None: it has none)."""

    assignment: LockedAssignment
    item: LockedItem
    prediction: PredictionShown | None


class LockedAnnotation(NamedTuple):
    id: int
    project_id: int
    item_id: int
    user_id: int
    revision: int
    answers: dict[str, Any]


class AnnotationState(NamedTuple):
    """What the item flow reads of each of an item's annotations (and the audit trail of
    a new one: the guideline version the statement wrote)."""

    id: int
    answers: dict[str, Any]
    review_status: str
    guideline_version: int | None


class InForce(NamedTuple):
    """A revision just written: its number and the guideline version it was written under."""

    revision: int
    guideline_version: int | None


class AssignmentState(NamedTuple):
    id: int
    kind: str
    status: str


class Count(NamedTuple):
    n: int


class Revision(NamedTuple):
    revision: int


class Answers(NamedTuple):
    answers: dict[str, Any]


class Feedback(NamedTuple):
    feedback: str | None


class NewId(NamedTuple):
    id: int


class ChainHead(NamedTuple):
    seq: int
    hash: str
