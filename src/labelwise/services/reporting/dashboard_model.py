"""The dashboard's shape: plain dataclasses, served as JSON and drawn as charts and tables.

Work figures (progress, throughput, time on item, review outcomes, check findings) are counted
by the database on every load. Quality figures (agreement per guideline version, class balance,
gold accuracy) need every answer, so they come from the last snapshot, with when it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from labelwise.services.reporting.quality_model import Figure


@dataclass(frozen=True, slots=True)
class DayRow:
    """One UTC day: items that became done (and all done up to it), annotations, reviews."""

    day: str
    items_done: int
    done_so_far: int
    annotations: int
    reviews: int


@dataclass(frozen=True, slots=True)
class TimeOnItem:
    """Time on item of the annotations that recorded one: nearest-rank median and 90th
    percentile in milliseconds, to two significant figures (cut down: within 10% below)."""

    timed: int
    median_ms: int | None
    p90_ms: int | None


@dataclass(frozen=True, slots=True)
class AnnotatorWork:
    """One annotator's annotations, per UTC day, and their time on item."""

    annotator: str
    annotations: int
    by_day: dict[str, int]
    time: TimeOnItem


@dataclass(frozen=True, slots=True)
class Work:
    """What the database counts on every load. Time on item is recorded once per item, for all
    its questions together, so it is per annotator and for `question_types` as a whole."""

    items: int
    by_status: dict[str, int]
    days: list[DayRow]
    annotators: list[AnnotatorWork]
    time: TimeOnItem
    question_types: list[str]
    verdicts: dict[str, int]
    verdicts_by_day: dict[str, dict[str, int]]
    checks: dict[str, int]


@dataclass(frozen=True, slots=True)
class VersionAgreement:
    """A question's main agreement among the answers made under one guideline version (None:
    before any was published), with a bootstrap 95% interval over items where it is cheap."""

    version: int | None
    items: int
    annotations: int
    agreement: Figure


@dataclass(frozen=True, slots=True)
class QuestionAgreement:
    question: str
    type: str
    metric: str | None
    overall: Figure | None
    versions: list[VersionAgreement]
    target_met: bool | None


@dataclass(frozen=True, slots=True)
class ClassBalance:
    """How often annotators gave each label of one question, overall and per slice value
    (`slices[field][value]` holds one count per label, in `labels` order)."""

    question: str
    labels: list[str]
    answers: list[int]
    slices: dict[str, dict[str, list[int]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GoldRow:
    """An annotator's accuracy on gold items, with its 95% Wilson interval."""

    annotator: str
    gold_answers: int
    accuracy: Figure


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """The quality report's figures the dashboard draws, as of `computed_at` (which took
    `seconds`); `annotations` counts what they were computed from."""

    computed_at: datetime
    seconds: float
    annotations: int
    metric: str
    target: float | None
    agreement: list[QuestionAgreement]
    balance: list[ClassBalance]
    gold: list[GoldRow]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """`quality` is None until it was first computed; `quality_current` says whether anything
    changed in the project since (every change moves its audit chain)."""

    project: str
    work: Work
    quality: QualityFigures | None
    quality_current: bool
