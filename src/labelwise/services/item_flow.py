"""Where an item goes once its annotations are in: review, adjudication, or done."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from labelwise.db.engine import insert_if_missing
from labelwise.db.models import Annotation, Review, ReviewStratum
from labelwise.db.prepared import Prepared, Record
from labelwise.spec import ProjectSpec


class ItemState(Protocol):
    """What the flow reads of an item: a locked `Item` row or the submit path's copy of it."""

    id: int
    project_id: int
    status: str
    data: Any


def next_status(
    session: Session,
    spec: ProjectSpec,
    item: ItemState,
    annotations: Sequence[Record] | None = None,
) -> str:
    """The item's status once an annotation was submitted or revised (item row locked).

    `annotations`: the item's, as `item_annotations` reads them, when the caller has them.
    """
    if annotations is None:
        annotations = item_annotations(session.connection(), item.id)
    if item.status in ("new", "in_progress"):
        if len(annotations) < spec.workflow.overlap:
            return item.status
        if _picked_for_review(session, spec, item):
            return "in_review"
    if item.status == "in_review" and any(
        a.review_status in ("submitted", "rejected") for a in annotations
    ):
        return item.status
    if item.status in ("new", "in_progress", "in_review"):
        return "in_adjudication" if _disagree(session, spec, annotations) else "done"
    return item.status


# What the flow reads of an item's annotations. Built once: it runs on every submit.
ANNOTATIONS_OF_ITEM = (
    select(Annotation.id, Annotation.answers, Annotation.review_status)
    .where(Annotation.item_id == bindparam("item"))
    .order_by(Annotation.id)
)
_ANNOTATIONS = Prepared(ANNOTATIONS_OF_ITEM)


def item_annotations(connection: Connection, item_id: int) -> list[Record]:
    return _ANNOTATIONS.all(connection, {"item": item_id})


def effective_answers(session: Session, annotation: Record) -> dict[str, Any]:
    """A reviewer's correction replaces the annotator's answers; the original is kept."""
    if annotation.review_status == "corrected":
        corrected = session.scalar(
            select(Review.corrected_answers)
            .where(Review.annotation_id == annotation.id, Review.verdict == "correct")
            .order_by(Review.id.desc())
            .limit(1)
        )
        if corrected is not None:
            return dict(corrected)
    return dict(annotation.answers)


def _disagree(session: Session, spec: ProjectSpec, annotations: Sequence[Record]) -> bool:
    if spec.workflow.adjudicate != "disagreement" or len(annotations) < 2:
        return False
    answers = [effective_answers(session, a) for a in annotations]
    compared = [q.name for q in spec.questions if q.kind.compared]
    return any(len({_key(a.get(name)) for a in answers}) > 1 for name in compared)


def _key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _picked_for_review(session: Session, spec: ProjectSpec, item: ItemState) -> bool:
    review = spec.workflow.review
    if review.policy == "none":
        return False
    if review.policy == "all":
        return True
    if review.policy == "random":
        return _uniform(item.project_id, item.id) < (review.rate or 0)
    return _stratified_pick(
        session, item, review.slice_by or "", review.rate or 0, review.min_per_slice
    )


def _uniform(project_id: int, item_id: int) -> float:
    """A fixed pseudo-random number per item: the same sample on every server and rerun."""
    digest = hashlib.blake2b(f"{project_id}:{item_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _stratified_pick(
    session: Session, item: ItemState, slice_by: str, rate: float, min_per_slice: int
) -> bool:
    """Systematic sampling per slice: the first `min_per_slice`, then a `rate` share."""
    stratum = str(item.data.get(slice_by, ""))[:255]
    insert_if_missing(
        session, ReviewStratum, project_id=item.project_id, stratum=stratum, seen=0, selected=0
    )
    row = session.scalar(
        select(ReviewStratum)
        .where(ReviewStratum.project_id == item.project_id, ReviewStratum.stratum == stratum)
        .with_for_update()
    )
    assert row is not None
    row.seen += 1
    picked = row.selected < max(min_per_slice, math.ceil(rate * row.seen))
    if picked:
        row.selected += 1
    return picked
