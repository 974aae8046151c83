"""An annotator scorecard's shape: plain dataclasses, served as JSON and drawn on the page.

Figures reuse the quality report's `Figure` (a value with its 95% interval, None when it
cannot be measured), so a scorecard and the report read alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from labelwise.services.reporting.quality_model import Figure


@dataclass(frozen=True, slots=True)
class PeerAgreement:
    """How often the annotator and one co-annotator gave the same answer on the items both
    labeled, and Cohen's kappa on them (linearly weighted for ordered answers)."""

    annotator: str
    shared_items: int
    agreement: float | None
    kappa: float | None


@dataclass(frozen=True, slots=True)
class QuestionScore:
    """One question coded as labels (single label, rating, preference).

    `consensus` is the share of the annotator's answers equal to the majority vote of the
    *other* annotators of the item (their own vote left out), over items with at least one
    other answer and no tie among them (`compared`), with its Wilson interval. Answers a
    reviewer corrected are counted in `answers` but compared nowhere: what the data holds
    there is the correction, not the annotator's answer.
    """

    name: str
    type: str
    answers: int
    compared: int
    consensus: Figure | None
    peers: list[PeerAgreement]


@dataclass(frozen=True, slots=True)
class Speed:
    """Seconds per item over the annotations that answered a question of `type` ("all":
    every annotation) and recorded their time."""

    type: str
    annotations: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Every review verdict on the annotator's work, and the accepted share with its Wilson
    interval (None before any review)."""

    accept: int
    reject: int
    correct: int
    accepted: Figure | None


@dataclass(frozen=True, slots=True)
class ReviewNote:
    """A verdict that says something: a rejection, a correction or written feedback."""

    annotation_id: int
    reviewer: str
    verdict: str
    feedback: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CommentNote:
    """Someone else's comment on an item the annotator labeled."""

    item_id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Feedback:
    comments: int
    recent_comments: list[CommentNote]
    recent_reviews: list[ReviewNote]


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One week (starting Monday, UTC) of the annotator's work, by when each annotation was
    first submitted: annotations, gold accuracy, and agreement with the others' consensus
    (over every label question, as in `QuestionScore.consensus`)."""

    week: date
    annotations: int
    gold_answers: int
    gold_accuracy: float | None
    compared: int
    consensus: float | None


@dataclass(frozen=True, slots=True)
class Scorecard:
    """One annotator in one project. `gold_accuracy` is the quality report's own figure."""

    project: str
    annotator: str
    role: str | None
    annotations: int
    gold_answers: int
    gold_accuracy: Figure | None
    questions: list[QuestionScore]
    speed: list[Speed]
    verdicts: Verdicts
    feedback: Feedback
    trend: list[TrendRow]
