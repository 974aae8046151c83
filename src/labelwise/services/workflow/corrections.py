"""The answers that count: a reviewer's correction replaces the annotator's, which is kept.

The item flow (is there a disagreement to adjudicate?), the quality report and releases all
read annotations through `effective_answers`, so a correction counts the same everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, select

from labelwise.db.models import Review
from labelwise.states import ReviewStatus, Verdict

_reviews = Review.__table__

Corrections = dict[int, dict[str, Any]]


class Reviewed(Protocol):
    """What is read of an annotation: any row with these columns."""

    @property
    def id(self) -> int: ...
    @property
    def answers(self) -> Any: ...
    @property
    def review_status(self) -> str: ...


def effective_answers(annotation: Reviewed, fixes: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    """The annotation's answers, or its latest correction (`fixes`) where it was corrected."""
    if annotation.review_status == ReviewStatus.CORRECTED and annotation.id in fixes:
        return dict(fixes[annotation.id])
    return dict(annotation.answers)


def corrections(connection: Connection, project_id: int, first: int, last: int) -> Corrections:
    """The latest correction of each corrected annotation of the items `first`..`last`."""
    return _latest(
        connection, _reviews.c.project_id == project_id, _reviews.c.item_id.between(first, last)
    )


def corrections_of(connection: Connection, annotation_ids: Collection[int]) -> Corrections:
    """The latest correction of each of these annotations; no query for none."""
    if not annotation_ids:
        return {}
    return _latest(connection, _reviews.c.annotation_id.in_(annotation_ids))


def _latest(connection: Connection, *where: ColumnElement[bool]) -> Corrections:
    rows = connection.execute(
        select(_reviews.c.annotation_id, _reviews.c.corrected_answers)
        .where(*where, _reviews.c.verdict == Verdict.CORRECT)
        .order_by(_reviews.c.id)
    )
    return {annotation_id: answers for annotation_id, answers in rows if answers is not None}
