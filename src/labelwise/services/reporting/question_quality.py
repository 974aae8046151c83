"""One question's agreement, per-label, per-slice and per-annotator figures, and its consensus.

Every figure comes from `labelwise.quality`: this module picks the metric that fits the
question's type (Krippendorff's alpha at its level of measurement, Fleiss' and Cohen's kappa
for categories, pairwise F1 for spans) and cuts the coded answers by label, slice and annotator.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelwise.quality import (
    AnnotatorScores,
    KappaWeights,
    MeasurementLevel,
    RankingPairs,
    annotator_accuracy,
    bootstrap_ci,
    borda_count,
    dawid_skene,
    deviation_from_others,
    fleiss_kappa,
    krippendorff_alpha,
    label_scores,
    majority_vote,
    multilabel_vote,
    pairwise_cohen_kappa,
    per_group,
    per_label_kappa,
    ranking_pairs,
    wilson_interval,
)
from labelwise.services.reporting.quality_data import (
    AnswerColumns,
    LabelColumns,
    MultiLabelColumns,
    NumberColumns,
    RankingColumns,
    SpanColumns,
    codes,
)
from labelwise.services.reporting.quality_model import (
    AnnotatorRow,
    ConfusionMatrices,
    ConsensusCounts,
    Figure,
    LabelRow,
    QuestionReport,
    SliceRow,
    VersionRow,
    defined,
)
from labelwise.services.reporting.vote_weights import (
    gold_labels,
    vote_weights,
    weighted_consensus,
)
from labelwise.spec import QuestionSpec

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
RowStatistic = Callable[[IntArray], float]

# Bootstrap intervals up to this many answers per question: 200 resamples then take well under
# a second; beyond it a report would wait for seconds, for an interval that is narrow anyway.
_BOOTSTRAP_ROWS = 50_000
_RESAMPLES = 200
# Cohen's kappa for ordered answers weighs a near miss less than a far one.
_KAPPA_WEIGHTS: dict[str, KappaWeights | None] = {"nominal": None, "ordinal": "linear"}


@dataclass(frozen=True, slots=True)
class Context:
    """What every question is cut by: per metadata field, each item's slice code and the
    slice values by code; the annotators' names by code; gold answers by item code."""

    slices: Mapping[str, tuple[IntArray, Sequence[str | None]]]
    annotators: Sequence[str]
    gold: Mapping[int, Mapping[str, object]]


def question_report(
    question: QuestionSpec, columns: AnswerColumns, context: Context
) -> QuestionReport:
    """The question's figures; a question nobody answered yet has counts only."""
    report = _by_type(question, columns, context)
    return dataclasses.replace(report, versions=version_rows(question, columns))


def _by_type(question: QuestionSpec, columns: AnswerColumns, context: Context) -> QuestionReport:
    if not columns.items:
        return _counts_only(question, columns, context, None)
    if isinstance(columns, LabelColumns):
        return _categories(question, columns, context)
    if isinstance(columns, NumberColumns):
        return _numbers(question, columns, context)
    if isinstance(columns, MultiLabelColumns):
        return _multi_labels(question, columns, context)
    if isinstance(columns, SpanColumns):
        return _spans(question, columns, context)
    if isinstance(columns, RankingColumns):
        return _rankings(question, columns, context)
    return _counts_only(question, columns, context, None)


def _counts_only(
    question: QuestionSpec, columns: AnswerColumns, context: Context, metric: str | None
) -> QuestionReport:
    """Free text (never compared word for word) or no answers yet: who answered how much."""
    items, annotators = codes(columns.items), codes(columns.annotators)
    return QuestionReport(
        name=question.name,
        type=question.type,
        items=int(np.unique(items).size),
        annotations=int(items.size),
        unmatched=columns.unmatched,
        metric=metric,
        agreement={},
        labels=[],
        slices={},
        annotators=_annotator_rows(context, annotators, {}),
        consensus={},
    )


def _categories(question: QuestionSpec, columns: LabelColumns, context: Context) -> QuestionReport:
    items, annotators = codes(columns.items), codes(columns.annotators)
    labels = codes(columns.labels)
    answered, units = _dense(items)
    k = len(columns.choices)
    level = _level(question)
    n_annotators = len(context.annotators)
    majority = majority_vote(units, labels, n_labels=k)
    ds = dawid_skene(units, annotators, labels, n_annotators=n_annotators, n_labels=k)
    gold = gold_labels(columns, question.name, context.gold)
    weights = vote_weights(columns, units, gold, n_annotators)
    weighted = weighted_consensus(columns, units, int(answered.size), weights)
    scores = _references(units, annotators, labels, majority.labels, gold, n_annotators)
    names = [str(choice) for choice in columns.choices]
    return QuestionReport(
        name=question.name,
        type=question.type,
        items=int(answered.size),
        annotations=int(labels.size),
        unmatched=columns.unmatched,
        metric="krippendorff_alpha",
        agreement=_category_agreement(units, annotators, labels, k, level),
        labels=_label_rows(names, units, labels, majority.labels),
        slices=_slices(
            context, items, items, lambda rows: krippendorff_alpha(units[rows], labels[rows], level)
        ),
        annotators=_annotator_rows(context, annotators, scores, weights=weights),
        consensus={
            "majority": _consensus_counts(names, majority.labels),
            "dawid_skene": _consensus_counts(names, ds.consensus.labels),
            "weighted": _consensus_counts(names, weighted.labels),
        },
        confusion=ConfusionMatrices(
            names,
            {
                context.annotators[code]: ds.confusion[code].tolist()
                for code in np.unique(annotators).tolist()
            },
        ),
    )


def _references(
    units: IntArray,
    annotators: IntArray,
    labels: IntArray,
    majority: IntArray,
    gold: IntArray,
    n_annotators: int,
) -> dict[str, AnnotatorScores]:
    """Each annotator scored against the majority vote (per item) and gold (per answer)."""
    scores = {"consensus": annotator_accuracy(units, annotators, labels, majority, n_annotators)}
    if (gold >= 0).any():
        answers = np.arange(labels.size)
        scores["gold"] = annotator_accuracy(answers, annotators, labels, gold, n_annotators)
    return scores


def _category_agreement(
    units: IntArray, annotators: IntArray, labels: IntArray, k: int, level: MeasurementLevel
) -> dict[str, Figure]:
    agreement = {
        "krippendorff_alpha": _with_interval(
            units, lambda rows, u: krippendorff_alpha(u, labels[rows], level)
        ),
        "cohen_kappa": Figure.of(_lights_kappa(units, annotators, labels, k, level)),
    }
    if level == "nominal":
        agreement["fleiss_kappa"] = Figure.of(fleiss_kappa(units, labels, n_labels=k))
    return agreement


def _level(question: QuestionSpec) -> MeasurementLevel:
    """The level of measurement its kind gives: nominal, ordinal, interval."""
    level = question.kind.level
    assert level is not None, f"a {question.type} question is compared without a level"
    return level


def _lights_kappa(
    units: IntArray, annotators: IntArray, labels: IntArray, k: int, level: MeasurementLevel
) -> float:
    """Light's kappa: the mean Cohen's kappa over the annotator pairs that share items."""
    pairs = pairwise_cohen_kappa(units, annotators, labels, k, _KAPPA_WEIGHTS[level])
    kappas = [pair.kappa for pair in pairs if not math.isnan(pair.kappa)]
    return float(np.mean(kappas)) if kappas else float("nan")


def _label_rows(
    names: Sequence[str], units: IntArray, labels: IntArray, consensus: IntArray
) -> list[LabelRow]:
    k = len(names)
    kappa = per_label_kappa(units, labels, n_labels=k)
    given = np.bincount(labels, minlength=k)
    chosen = np.bincount(consensus[consensus >= 0], minlength=k)
    f1 = label_scores(consensus[units], labels, k).f1
    return [
        LabelRow(name, int(given[j]), int(chosen[j]), defined(kappa[j]), defined(f1[j]))
        for j, name in enumerate(names)
    ]


def _numbers(question: QuestionSpec, columns: NumberColumns, context: Context) -> QuestionReport:
    """Numbers: alpha at the kind's level (interval) on the distinct values given (their codes
    in value order)."""
    items, annotators = codes(columns.items), codes(columns.annotators)
    _, units = _dense(items)
    domain, values = np.unique(np.asarray(columns.values, np.float64), return_inverse=True)
    level = _level(question)

    def alpha(rows: IntArray, unit_codes: IntArray) -> float:
        return krippendorff_alpha(unit_codes, values[rows], level, domain)

    deviation = deviation_from_others(
        units, annotators, domain[values], n_annotators=len(context.annotators)
    )

    return QuestionReport(
        name=question.name,
        type=question.type,
        items=int(units.max()) + 1,
        annotations=int(items.size),
        unmatched=columns.unmatched,
        metric="krippendorff_alpha",
        agreement={"krippendorff_alpha": _with_interval(units, alpha)},
        labels=[],
        slices=_slices(context, items, items, lambda rows: alpha(rows, units[rows])),
        annotators=_annotator_rows(
            context, annotators, {}, agreement={"mean_abs_deviation": deviation}
        ),
        consensus={},
    )


def _multi_labels(
    question: QuestionSpec, columns: MultiLabelColumns, context: Context
) -> QuestionReport:
    """Each (item, label) pair is a yes/no unit: alpha and kappa pool them, and each label
    gets its own kappa; the consensus decides each label by a strict majority."""
    items, annotators = codes(columns.items), codes(columns.annotators)
    _, units = _dense(items)
    k = len(columns.choices)
    selected = codes(columns.selected).reshape(-1, k)
    offsets = np.arange(k)

    def pooled(rows: IntArray, unit_codes: IntArray) -> float:
        pairs = (unit_codes[:, None] * k + offsets).ravel()
        return krippendorff_alpha(pairs, selected[rows].ravel())

    vote = multilabel_vote(units, selected)
    reference = np.where(vote.tied, -1, vote.selected.astype(np.intp))
    pair_units = (units[:, None] * k + offsets).ravel()
    scores = annotator_accuracy(
        pair_units,
        np.repeat(annotators, k),
        selected.ravel(),
        reference.ravel(),
        len(context.annotators),
    )
    return QuestionReport(
        name=question.name,
        type=question.type,
        items=int(units.max()) + 1,
        annotations=int(items.size),
        unmatched=columns.unmatched,
        metric="krippendorff_alpha",
        agreement={
            "krippendorff_alpha": _with_interval(units, pooled),
            "fleiss_kappa": Figure.of(fleiss_kappa(pair_units, selected.ravel(), n_labels=2)),
        },
        labels=_multi_label_rows(columns.choices, units, selected, reference),
        slices=_slices(context, items, items, lambda rows: pooled(rows, units[rows])),
        annotators=_annotator_rows(context, annotators, {"consensus": scores}),
        consensus={
            "majority": ConsensusCounts(
                dict(zip(columns.choices, map(int, vote.selected.sum(axis=0)), strict=True)),
                int(vote.tied.any(axis=1).sum()),
            )
        },
    )


def _multi_label_rows(
    names: Sequence[str], units: IntArray, selected: IntArray, reference: IntArray
) -> list[LabelRow]:
    """Per label: Fleiss' kappa and the F1 of "chose it" against the consensus, label by label."""
    rows = []
    for j, name in enumerate(names):
        kappa = fleiss_kappa(units, selected[:, j], n_labels=2)
        f1 = label_scores(reference[units, j], selected[:, j], 2).f1[1]
        consensus = int((reference[:, j] == 1).sum())
        rows.append(
            LabelRow(name, int(selected[:, j].sum()), consensus, defined(kappa), defined(f1))
        )
    return rows


def _spans(question: QuestionSpec, columns: SpanColumns, context: Context) -> QuestionReport:
    """Spans: micro-averaged pairwise F1 over the items two or more annotators marked."""
    items, annotators = codes(columns.items), codes(columns.annotators)
    scored = codes(columns.scored_items)
    total, exact = codes(columns.total), codes(columns.exact)
    k = len(columns.choices)
    label_total = codes(columns.label_total).reshape(-1, k)
    label_exact = codes(columns.label_exact).reshape(-1, k)
    every = np.arange(scored.size)
    agreement = {
        "span_f1": _with_interval(every, lambda rows, _: _share(exact[rows], total[rows])),
        "span_f1_overlap": Figure.of(_share(codes(columns.overlap), total)),
    }
    labels = [
        LabelRow(
            name,
            columns.spans_per_label[j],
            None,
            None,
            defined(_share(label_exact[:, j], label_total[:, j])),
        )
        for j, name in enumerate(columns.choices)
    ]
    return QuestionReport(
        name=question.name,
        type=question.type,
        items=int(np.unique(items).size),
        annotations=int(items.size),
        unmatched=columns.unmatched,
        metric="span_f1",
        agreement=agreement,
        labels=labels,
        slices=_slices(context, items, scored, lambda rows: _share(exact[rows], total[rows])),
        annotators=_annotator_rows(
            context, annotators, {}, agreement={"span_f1": _span_f1_by_annotator(columns, context)}
        ),
        consensus={},
    )


def _rankings(question: QuestionSpec, columns: RankingColumns, context: Context) -> QuestionReport:
    """Rankings: Kendall's tau averaged over every pair of annotators of the same item
    (bootstrapped over those items); per response, how often it was ranked first and is first
    by the Borda count."""
    items, annotators = codes(columns.items), codes(columns.annotators)
    answered, units = _dense(items)
    places = _places(columns)
    pairs = ranking_pairs(units, places)
    _, pair_units = _dense(units[pairs.first])
    k = len(columns.responses)
    borda = borda_count(units, places, int(answered.size))
    given_first = np.bincount(np.argmin(places, axis=1), minlength=k)
    consensus_first = np.bincount(borda.order[~borda.tied, 0], minlength=k)
    names = list(columns.responses)

    def tau(rows: IntArray) -> float:
        return float(pairs.tau[rows].mean()) if rows.size else math.nan

    return QuestionReport(
        name=question.name,
        type=question.type,
        items=int(answered.size),
        annotations=int(items.size),
        unmatched=columns.unmatched,
        metric="kendall_tau",
        agreement={"kendall_tau": _with_interval(pair_units, lambda rows, _: tau(rows))},
        labels=[
            LabelRow(name, int(given_first[j]), int(consensus_first[j]), None, None)
            for j, name in enumerate(names)
        ],
        slices=_slices(context, items, items[pairs.first], tau),
        annotators=_annotator_rows(
            context,
            annotators,
            {},
            agreement={"kendall_tau": _tau_by_annotator(pairs, annotators, context)},
        ),
        consensus={
            "borda": ConsensusCounts(
                dict(zip(names, map(int, consensus_first), strict=True)), int(borda.tied.sum())
            )
        },
    )


def _places(columns: RankingColumns) -> IntArray:
    return codes(columns.places).reshape(-1, len(columns.responses))


def _tau_by_annotator(pairs: RankingPairs, annotators: IntArray, context: Context) -> FloatArray:
    """Per annotator code: mean tau with every other annotator of the items they ranked."""
    n = len(context.annotators)
    sides = (annotators[pairs.first], annotators[pairs.second])
    total = sum(np.bincount(side, weights=pairs.tau, minlength=n) for side in sides)
    count = sum(np.bincount(side, minlength=n) for side in sides)
    return np.asarray(np.where(count > 0, total / np.maximum(count, 1), np.nan), np.float64)


def _span_f1_by_annotator(columns: SpanColumns, context: Context) -> FloatArray:
    """Per annotator code: exact span F1 over the pairs they are in; NaN with no spans there."""
    every = range(len(context.annotators))
    matched = np.array([columns.annotator_exact[code] for code in every], np.float64)
    marked = np.array([columns.annotator_total[code] for code in every], np.float64)
    return np.asarray(np.where(marked > 0, matched / np.maximum(marked, 1), np.nan), np.float64)


def _share(matched: IntArray, total: IntArray) -> float:
    """Micro F1: spans matched over spans marked, summed over pairs; NaN with no spans."""
    marked = int(total.sum())
    return int(matched.sum()) / marked if marked else float("nan")


def _dense(items: IntArray) -> tuple[IntArray, IntArray]:
    """The items answered (ascending codes), and each answer's item renumbered 0..n-1 over
    them, so resampling and voting see only those (unanswered items are no units here)."""
    answered, dense = np.unique(items, return_inverse=True)
    return answered.astype(np.intp), dense.astype(np.intp)


def _with_interval(units: IntArray, statistic: Callable[[IntArray, IntArray], float]) -> Figure:
    """The statistic with a bootstrap 95% interval over items, where that is cheap."""
    if units.size > _BOOTSTRAP_ROWS:
        return Figure.of(statistic(np.arange(units.size), units))
    interval = bootstrap_ci(units, statistic, n_resamples=_RESAMPLES)
    return Figure.of(interval.estimate, interval.low, interval.high)


def _slices(
    context: Context, answer_items: IntArray, measured_items: IntArray, statistic: RowStatistic
) -> dict[str, list[SliceRow]]:
    """The statistic on the rows of each slice value, for every metadata field.

    `answer_items` gives each answer's item (for the counts); `measured_items` each row the
    statistic indexes (answers, or scored items for spans).
    """
    result: dict[str, list[SliceRow]] = {}
    for name, (item_slices, values) in context.slices.items():
        figures = per_group(item_slices[measured_items], statistic)
        answers = np.bincount(item_slices[answer_items], minlength=len(values))
        items = np.bincount(item_slices[np.unique(answer_items)], minlength=len(values))
        result[name] = [
            SliceRow(value, int(items[g]), int(answers[g]), defined(figures.get(g, math.nan)))
            for g, value in enumerate(values)
            if answers[g]
        ]
    return result


def version_rows(question: QuestionSpec, columns: AnswerColumns) -> list[VersionRow]:
    """The main agreement among the answers made under each guideline version: a rule change
    shows as a step from one version to the next, labeler drift as a slide within one."""
    if not columns.items:
        return []
    items, versions = codes(columns.items), codes(columns.versions)
    statistic, measured = _version_statistic(question, columns, items, versions)
    figures = {} if statistic is None else per_group(measured, statistic)
    rows = []
    for version in np.unique(versions).tolist():
        mine = versions == version
        rows.append(
            VersionRow(
                version or None,
                int(np.unique(items[mine]).size),
                int(mine.sum()),
                defined(figures.get(version, math.nan)),
            )
        )
    return rows


def _version_statistic(
    question: QuestionSpec, columns: AnswerColumns, items: IntArray, versions: IntArray
) -> tuple[RowStatistic | None, IntArray]:
    """The statistic `_by_type` uses per slice, and the version of each row it indexes."""
    _, units = _dense(items)
    if isinstance(columns, LabelColumns):
        labels, level = codes(columns.labels), _level(question)
        return lambda rows: krippendorff_alpha(units[rows], labels[rows], level), versions
    if isinstance(columns, NumberColumns):
        domain, values = np.unique(np.asarray(columns.values, np.float64), return_inverse=True)
        level = _level(question)
        return (
            lambda rows: krippendorff_alpha(units[rows], values[rows], level, domain),
            versions,
        )
    if isinstance(columns, MultiLabelColumns):
        k = len(columns.choices)
        selected, offsets = codes(columns.selected).reshape(-1, k), np.arange(k)

        def pooled(rows: IntArray) -> float:
            pairs = (units[rows][:, None] * k + offsets).ravel()
            return krippendorff_alpha(pairs, selected[rows].ravel())

        return pooled, versions
    if isinstance(columns, SpanColumns):
        exact, total = codes(columns.version_exact), codes(columns.version_total)
        return lambda rows: _share(exact[rows], total[rows]), codes(columns.version_codes)
    if isinstance(columns, RankingColumns):
        pairs = ranking_pairs(units, _places(columns))
        first, second = versions[pairs.first], versions[pairs.second]
        within = np.where(first == second, first, -1)  # pairs across versions: no group
        return lambda rows: float(pairs.tau[rows].mean()), within
    return None, versions


def _annotator_rows(
    context: Context,
    annotators: IntArray,
    scores: Mapping[str, AnnotatorScores],
    agreement: Mapping[str, FloatArray] | None = None,
    weights: FloatArray | None = None,
) -> list[AnnotatorRow]:
    """Busiest first; each reference in `scores` (e.g. "consensus") becomes an accuracy with
    its Wilson interval, for annotators who have answers that reference covers. `agreement`
    gives per metric one figure per annotator code (NaN: not measured), `weights` their votes."""
    counts = np.bincount(annotators, minlength=len(context.annotators))
    rows = [
        AnnotatorRow(
            context.annotators[code],
            int(counts[code]),
            {
                reference: _wilson(int(s.correct[code]), int(s.total[code]))
                for reference, s in scores.items()
                if s.total[code] > 0
            },
            {
                metric: Figure.of(float(values[code]))
                for metric, values in (agreement or {}).items()
                if not math.isnan(values[code])
            },
            None if weights is None else float(weights[code]),
        )
        for code in np.flatnonzero(counts).tolist()
    ]
    return sorted(rows, key=lambda row: (-row.annotations, row.annotator))


def _wilson(correct: int, total: int) -> Figure:
    interval = wilson_interval(correct, total)
    return Figure.of(interval.estimate, interval.low, interval.high)


def _consensus_counts(names: Sequence[Hashable], labels: IntArray) -> ConsensusCounts:
    chosen = np.bincount(labels[labels >= 0], minlength=len(names))
    counts = {str(name): int(count) for name, count in zip(names, chosen, strict=True)}
    return ConsensusCounts(counts, int((labels < 0).sum()))
