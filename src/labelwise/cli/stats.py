"""`labelwise stats SLUG`: the project's quality report as tables in the terminal, or JSON.

The same report as `GET /api/v1/projects/{slug}/quality`, built by the same service.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Annotated

import orjson
import typer
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from labelwise.cli.common import DataDirOption, console, load_settings, open_db, reports_errors
from labelwise.policies import EVERYTHING
from labelwise.services import projects
from labelwise.services.reporting import quality_report
from labelwise.services.reporting.prelabels import ModelAcceptance, Outcomes
from labelwise.services.reporting.quality_model import (
    AnnotatorSummary,
    Figure,
    QualityReport,
    QuestionReport,
    ReviewReport,
)

# How an annotator's agreement with the others is named, by metric.
_OTHERS = {
    "span_f1": "span F1",
    "kendall_tau": "Kendall τ",
    "mean_abs_deviation": "mean abs. deviation",
}
# Agreement columns, in the order shown: report key and column title.
_METRICS = (
    ("krippendorff_alpha", "Krippendorff α"),
    ("fleiss_kappa", "Fleiss κ"),
    ("cohen_kappa", "Cohen κ (mean of pairs)"),
    ("span_f1", "span F1"),
    ("kendall_tau", "Kendall τ (mean of pairs)"),
)


@reports_errors
def stats_command(
    slug: Annotated[str, typer.Argument(help="The project.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    confusion: Annotated[
        bool,
        typer.Option("--confusion", help="Also print each annotator's Dawid-Skene confusion."),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Progress, agreement (per question, label, slice, annotator), gold accuracy, consensus
    and the review estimate of project SLUG."""
    db = open_db(load_settings(data_dir))
    report = quality_report.build(db, projects.get(db, slug), EVERYTHING)  # the server side
    if as_json:
        typer.echo(orjson.dumps(dataclasses.asdict(report), option=orjson.OPT_INDENT_2).decode())
        return
    for table in _tables(report):
        console.print(table)
    if confusion:
        for table in _confusion(report.questions):
            console.print(table)


def _tables(report: QualityReport) -> Iterable[RenderableType]:
    yield from _progress(report)
    yield _agreement(report)
    yield _labels(report.questions)
    yield _slices(report.questions)
    yield _versions(report.questions)
    yield _annotators(report.annotators)
    yield _annotators_per_question(report.questions)
    yield _consensus(report.questions)
    yield from _review(report.review)
    yield _prelabels(report.prelabels)
    yield Text(f"Check findings: {_counts(report.checks) or 'none'}")


def _prelabels(models: list[ModelAcceptance]) -> Table:
    table = Table("model", "question", "label", "shown", "accepted", "edited", "rejected")
    table.title = "Model suggestions (accepted / edited / rejected)"
    for model in models:
        table.add_row(model.model, "(whole answer)", "", *_outcome_cells(model.outcomes))
        for row in model.labels:
            table.add_row(model.model, row.question, row.label, *_outcome_cells(row.outcomes))
    return table


def _outcome_cells(outcomes: Outcomes) -> list[str]:
    counts = (outcomes.accepted, outcomes.edited, outcomes.rejected)
    return [str(outcomes.shown)] + [
        f"{n} ({n / outcomes.shown:.0%})" if outcomes.shown else "0" for n in counts
    ]


def _progress(report: QualityReport) -> Iterable[RenderableType]:
    progress = report.progress
    table = Table("status", "items", title=f"Progress of {report.project}")
    for status, count in sorted(progress.by_status.items()):
        table.add_row(status, str(count))
    table.add_row("all", str(progress.items), style="bold")
    yield table
    yield Text(f"{progress.annotations} annotations by {progress.annotators} annotators")


def _agreement(report: QualityReport) -> Table:
    overall = report.agreement
    table = Table("question", "type", "items", "answers", *(t for _, t in _METRICS), "target")
    table.title = "Agreement (95% bootstrap interval)"
    for q in report.questions:
        figures = [_figure(q.agreement.get(key)) for key, _ in _METRICS]
        table.add_row(q.name, q.type, str(q.items), str(q.annotations), *figures, _met(q))
    target = "none set" if overall.target is None else f"≥ {overall.target:g}"
    table.caption = (
        f"overall {overall.metric}: {_number(overall.value)} over {overall.questions} "
        f"question(s); target {target}: {_verdict(overall.met)}"
    )
    return table


def _labels(questions: list[QuestionReport]) -> Table:
    table = Table("question", "label", "answers", "consensus", "κ label vs rest", "F1 vs consensus")
    table.title = "Per label"
    for q in questions:
        for row in q.labels:
            consensus = "—" if row.consensus is None else str(row.consensus)
            table.add_row(
                q.name, row.label, str(row.answers), consensus, _number(row.kappa), _number(row.f1)
            )
    return table


def _slices(questions: list[QuestionReport]) -> Table:
    table = Table("question", "slice", "value", "items", "answers", "metric", "agreement")
    table.title = "Per slice"
    for q in questions:
        for name, rows in q.slices.items():
            for row in rows:
                value = "(none)" if row.value is None else row.value
                counts = (str(row.items), str(row.annotations))
                table.add_row(q.name, name, value, *counts, q.metric, _number(row.agreement))
    return table


def _versions(questions: list[QuestionReport]) -> Table:
    table = Table("question", "guidelines", "items", "answers", "metric", "agreement")
    table.title = "Per guideline version"
    for q in questions:
        for row in q.versions:
            version = "(none yet)" if row.version is None else f"v{row.version}"
            counts = (str(row.items), str(row.annotations))
            table.add_row(q.name, version, *counts, q.metric or "—", _number(row.agreement))
    return table


def _annotators(annotators: list[AnnotatorSummary]) -> Table:
    table = Table("annotator", "answers", "gold items", "gold accuracy (Wilson 95%)")
    table.title = "Per annotator"
    for row in annotators:
        gold = (str(row.gold_answers), _figure(row.gold_accuracy))
        table.add_row(row.annotator, str(row.annotations), *gold)
    return table


def _annotators_per_question(questions: list[QuestionReport]) -> Table:
    titles = ("answers", "agrees with consensus", "gold", "with the others", "vote weight")
    table = Table("question", "annotator", *titles, title="Per annotator and question")
    for q in questions:
        for row in q.annotators:
            table.add_row(
                q.name,
                row.annotator,
                str(row.annotations),
                _figure(row.accuracy.get("consensus")),
                _figure(row.accuracy.get("gold")),
                _with_others(row.agreement),
                _number(row.weight),
            )
    return table


def _with_others(agreement: dict[str, Figure]) -> str:
    shown = [f"{_OTHERS[name]} {_figure(figure)}" for name, figure in agreement.items()]
    return ", ".join(shown) or "—"


def _confusion(questions: list[QuestionReport]) -> Iterable[RenderableType]:
    """One table per question and annotator: true labels in rows, answers in columns (a
    heading line, not a title: a title would wrap to the narrow table)."""
    for q in questions:
        if q.confusion is None:
            continue
        labels = q.confusion.labels
        for annotator, matrix in q.confusion.matrices.items():
            yield Text(f"Dawid-Skene: P(answer | true label) of {annotator} on {q.name}")
            table = Table("true label", *labels)
            for label, row in zip(labels, matrix, strict=True):
                table.add_row(label, *(f"{p:.3f}" for p in row))
            yield table


def _consensus(questions: list[QuestionReport]) -> Table:
    table = Table("question", "method", "items per label", "unresolved")
    table.title = "Consensus"
    for q in questions:
        for method, counts in q.consensus.items():
            labels = ", ".join(f"{label} {count}" for label, count in counts.labels.items())
            table.add_row(q.name, method, labels, str(counts.unresolved))
    return table


def _review(review: ReviewReport) -> Iterable[RenderableType]:
    verdicts = _counts(review.verdicts) or "none yet"
    estimate = review.estimate
    if estimate is None:
        yield Text(f"Review ({review.policy}): nothing reviewed yet")
        return
    table = Table("stratum", "finished", "reviewed", "weight", "accuracy (Wilson 95%)")
    table.title = f"Review ({review.policy}): estimated label accuracy"
    for row in estimate.strata:
        table.add_row(
            "(all)" if row.stratum is None else row.stratum,
            str(row.finished_items),
            str(row.reviewed_items),
            f"{row.weight:.3f}",
            _figure(row.accuracy),
        )
    table.add_row(
        "all (stratified)",
        str(estimate.finished_items),
        str(estimate.reviewed_items),
        "",
        _figure(estimate.accuracy),
        style="bold",
    )
    table.caption = f"verdicts: {verdicts}; weights cover {estimate.covered:.0%} of finished items"
    yield table


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))


def _figure(figure: Figure | None) -> str:
    if figure is None:
        return "—"
    if figure.low is None or figure.high is None:
        return _number(figure.value)
    return f"{_number(figure.value)} [{figure.low:.3f}, {figure.high:.3f}]"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _met(question: QuestionReport) -> str:
    return "—" if question.target_met is None else _verdict(question.target_met)


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "NOT met"
