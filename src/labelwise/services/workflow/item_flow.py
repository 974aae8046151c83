"""Where an item goes once its annotations are in: review, adjudication, or done."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelwise.canonical import canonical_json
from labelwise.db.engine import insert_if_missing
from labelwise.db.labeling import AnnotationState, store
from labelwise.db.models import ReviewStratum
from labelwise.services.workflow.corrections import corrections_of, effective_answers
from labelwise.spec import ProjectSpec
from labelwise.states import ItemStatus, ReviewStatus


class ItemState(Protocol):
    """What the flow reads of an item: a locked `Item` row or the submit path's copy of it."""

    @property
    def id(self) -> int: ...
    @property
    def project_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def data(self) -> Any: ...


def next_status(
    session: Session,
    spec: ProjectSpec,
    item: ItemState,
    annotations: Sequence[AnnotationState] | None = None,
) -> ItemStatus:
    """The item's status once an annotation was submitted or revised (item row locked).

    `annotations`: the item's, as the labeling store reads them, when the caller has them.
    """
    status = ItemStatus(item.status)
    if annotations is None:
        annotations = store(session).item_annotations(item.id)
    if status in (ItemStatus.NEW, ItemStatus.IN_PROGRESS):
        if len(annotations) < spec.workflow.overlap:
            return status
        if _picked_for_review(session, spec, item):
            return ItemStatus.IN_REVIEW
    awaiting = (ReviewStatus.SUBMITTED, ReviewStatus.REJECTED)
    if status == ItemStatus.IN_REVIEW and any(a.review_status in awaiting for a in annotations):
        return status
    if status in (ItemStatus.NEW, ItemStatus.IN_PROGRESS, ItemStatus.IN_REVIEW):
        disagree = _disagree(session, spec, annotations)
        return ItemStatus.IN_ADJUDICATION if disagree else ItemStatus.DONE
    return status


def _disagree(session: Session, spec: ProjectSpec, annotations: Sequence[AnnotationState]) -> bool:
    if spec.workflow.adjudicate != "disagreement" or len(annotations) < 2:
        return False
    corrected = [a.id for a in annotations if a.review_status == ReviewStatus.CORRECTED]
    fixes = corrections_of(session.connection(), corrected)
    answers = [effective_answers(a, fixes) for a in annotations]
    compared = [q.name for q in spec.questions if q.kind.compared]
    return any(len({canonical_json(a.get(name)) for a in answers}) > 1 for name in compared)


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


def _uniform(*key: int) -> float:
    """A fixed pseudo-random number per key (project, item[, person]): the same sample on
    every server and rerun."""
    digest = hashlib.blake2b(":".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def as_if_real(spec: ProjectSpec, project_id: int, item_id: int, user_id: int) -> ItemStatus:
    """The status a gold item shows the person who answered it: one a real item of the
    project shows after a person's submit, as often as real ones do, drawn once per item and
    person so that a retry, an edit and the item page all say the same.

    With an overlap of N, N - 1 of every N submits leave a real item in progress and the
    last completes it; a completed item goes to review as the policy picks real ones (its
    rate standing in for stratified sampling), else it is done. Adjudication is left out:
    how often annotators disagree is not known here.
    """
    overlap = spec.workflow.overlap
    if _uniform(project_id, item_id, user_id) < (overlap - 1) / overlap:
        return ItemStatus.IN_PROGRESS
    review = spec.workflow.review
    sampled = review.policy != "none" and _uniform(project_id, item_id) < (review.rate or 0)
    return ItemStatus.IN_REVIEW if review.policy == "all" or sampled else ItemStatus.DONE


def stratum_key(data: Mapping[str, Any], slice_by: str) -> str:
    """The review stratum an item's data falls in: its `slice_by` value as text.

    Cut to the stratum column's 255 characters; the quality report groups by the same key,
    so its strata are the ones the sampler counted.
    """
    return str(data.get(slice_by, ""))[:255]


def _stratified_pick(
    session: Session, item: ItemState, slice_by: str, rate: float, min_per_slice: int
) -> bool:
    """Systematic sampling per slice: the first `min_per_slice`, then a `rate` share."""
    stratum = stratum_key(item.data, slice_by)
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
