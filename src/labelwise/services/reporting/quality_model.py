"""The quality report's shape: plain dataclasses, served as JSON and printed as tables.

Every figure that can be undefined (no pairs to compare, one category only, an empty slice) is
None rather than NaN, so the report is valid JSON and a reader sees "not measurable", not 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from labelwise.services.reporting.prelabels import ModelAcceptance


def defined(value: float) -> float | None:
    """NaN (undefined) as None; everything else as a plain float."""
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure, with its 95% interval when one was computed."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @classmethod
    def of(cls, value: float, low: float | None = None, high: float | None = None) -> Figure:
        return cls(defined(value), _maybe(low), _maybe(high))


def _maybe(value: float | None) -> float | None:
    return None if value is None else defined(value)


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One label of a question: how often annotators gave it, how often the majority consensus
    is it, its agreement against the other labels (Fleiss' kappa, label vs rest), and the F1 of
    the annotators' answers against the consensus. Span questions give F1 between annotators;
    ranking questions give, per response, how often annotators ranked it first (`answers`) and
    on how many items the Borda consensus does (`consensus`)."""

    label: str
    answers: int
    consensus: int | None
    kappa: float | None
    f1: float | None


@dataclass(frozen=True, slots=True)
class SliceRow:
    """The question's main agreement figure on the items of one slice value."""

    value: str | None
    items: int
    annotations: int
    agreement: float | None


@dataclass(frozen=True, slots=True)
class VersionRow:
    """The question's main agreement among the answers made under one guideline version
    (None: before any was published); pairs across versions are not compared."""

    version: int | None
    items: int
    annotations: int
    agreement: float | None


@dataclass(frozen=True, slots=True)
class AnnotatorRow:
    """One annotator's work on a question. `accuracy` is keyed by the reference it is scored
    against: "consensus" (the majority vote; the annotator's own vote is part of it, which
    flatters annotators on items with few votes) and, on items with a gold answer to the
    question, "gold". `agreement` holds what fits types without a reference label, keyed by
    metric: "span_f1" (exact span F1 against every other annotator of the same items),
    "kendall_tau" (mean Kendall's tau of a ranking with every other ranking of the same item)
    and "mean_abs_deviation" (mean distance of a number from the mean of the others' answers to
    the same item). `weight` is the annotator's vote in the "weighted" consensus."""

    annotator: str
    annotations: int
    accuracy: dict[str, Figure] = field(default_factory=dict)
    agreement: dict[str, Figure] = field(default_factory=dict)
    weight: float | None = None


@dataclass(frozen=True, slots=True)
class ConfusionMatrices:
    """Dawid-Skene's fitted confusion matrix of each annotator of a question:
    `matrices[annotator][true][given]` is the probability that they answer `labels[given]`
    when the answer is `labels[true]` (each row sums to 1)."""

    labels: list[str]
    matrices: dict[str, list[list[float]]]


@dataclass(frozen=True, slots=True)
class AnnotatorSummary:
    """One annotator over the whole project: their annotations, and their accuracy on gold
    items (an answer is right when every question the gold answer covers matches, as in
    `labelwise gold accuracy`) with its 95% Wilson interval; None without gold answers."""

    annotator: str
    annotations: int
    gold_answers: int
    gold_accuracy: Figure | None


@dataclass(frozen=True, slots=True)
class ConsensusCounts:
    """Items per consensus label, and items left unresolved (a tie, never broken by order)."""

    labels: dict[str, int]
    unresolved: int


@dataclass(frozen=True, slots=True)
class QuestionReport:
    """Agreement and consensus of one question.

    `agreement` holds the metrics that apply to the question's type, by name
    (krippendorff_alpha, fleiss_kappa, cohen_kappa, span_f1, span_f1_overlap, kendall_tau);
    `metric` names the one used per slice. `consensus` counts items per consensus label, by
    method (majority, dawid_skene, weighted; borda: items per response ranked first).
    `confusion` holds each annotator's Dawid-Skene confusion matrix (questions coded as
    labels). `unmatched` counts answers that no longer fit the question (its labels changed
    since) and were left out.
    """

    name: str
    type: str
    items: int
    annotations: int
    unmatched: int
    metric: str | None
    agreement: dict[str, Figure]
    labels: list[LabelRow]
    slices: dict[str, list[SliceRow]]
    annotators: list[AnnotatorRow]
    consensus: dict[str, ConsensusCounts]
    target_met: bool | None = None
    versions: list[VersionRow] = field(default_factory=list)
    confusion: ConfusionMatrices | None = None


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement over the whole project: the mean of `metric` over the questions that have it,
    and the spec's target, met only when every one of those questions reaches it."""

    metric: str
    value: float | None
    questions: int
    target: float | None
    met: bool | None


@dataclass(frozen=True, slots=True)
class StratumRow:
    """One review stratum: finished items (N_h), reviewed items (n_h), the weight W_h, the mean
    share of accepted labels per reviewed item, and a Wilson interval on its label counts."""

    stratum: str | None
    finished_items: int
    reviewed_items: int
    weight: float
    accuracy: Figure


@dataclass(frozen=True, slots=True)
class ReviewEstimate:
    """Estimated label accuracy with its 95% interval, by the stratified estimator.

    `covered` is the share of finished items in strata with at least one review; the estimate
    speaks for those strata only.
    """

    accuracy: Figure
    standard_error: float | None
    finished_items: int
    reviewed_items: int
    covered: float
    strata: list[StratumRow]


@dataclass(frozen=True, slots=True)
class ReviewReport:
    policy: str
    slice_by: str | None
    verdicts: dict[str, int]
    estimate: ReviewEstimate | None


@dataclass(frozen=True, slots=True)
class Progress:
    items: int
    by_status: dict[str, int]
    annotations: int
    annotators: int


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The whole report; `annotators` sums up each annotator over every question (busiest
    first); `checks` counts the findings of the latest automated-check run; `prelabels` says
    how labelers took each model's suggestions, per model and per predicted label."""

    project: str
    progress: Progress
    agreement: Agreement
    questions: list[QuestionReport]
    annotators: list[AnnotatorSummary]
    review: ReviewReport
    checks: dict[str, int]
    prelabels: list[ModelAcceptance] = field(default_factory=list)
