"""A project's quality report: progress, agreement per question, label, slice and annotator,
consensus distributions, each annotator's gold accuracy, the agreement target, the review
estimate and check findings.

All reading happens in `quality_data.load` (one snapshot, streamed); everything after it is
arithmetic on arrays by `labelwise.quality`, so the report is consistent and memory stays
proportional to the answers as integers.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.policies import FieldView
from labelwise.quality import wilson_interval
from labelwise.services.projects import spec_of
from labelwise.services.reporting.quality_data import ProjectColumns, codes, load
from labelwise.services.reporting.quality_model import (
    Agreement,
    AnnotatorSummary,
    Figure,
    Progress,
    QualityReport,
    QuestionReport,
)
from labelwise.services.reporting.question_quality import Context, question_report
from labelwise.services.reporting.review_estimate import review_report
from labelwise.spec import ProjectSpec

# Without a target in the spec, the overall figure is the one metric every type but spans has.
_DEFAULT_METRIC = "krippendorff_alpha"


def build(db: Database, project: Project, view: FieldView) -> QualityReport:
    """The whole report for `project`, sliced only by the metadata fields `view` shows: a
    slice's rows name the field's values."""
    spec = spec_of(project)
    return shown(report_of(project, spec, load(db, project.id, spec, spec.questions)), view)


def shown(report: QualityReport, view: FieldView) -> QualityReport:
    if not view.hidden:
        return report
    questions = [
        dataclasses.replace(q, slices={k: v for k, v in q.slices.items() if view.shows(k)})
        for q in report.questions
    ]
    return dataclasses.replace(report, questions=questions)


def report_of(project: Project, spec: ProjectSpec, columns: ProjectColumns) -> QualityReport:
    """`build` from columns already loaded with every question of `spec`."""
    context = _context(columns)
    questions = [question_report(q, columns.answers[q.name], context) for q in spec.questions]
    agreement, questions = _against_target(spec, questions)
    return QualityReport(
        project=project.slug,
        progress=Progress(
            items=sum(columns.by_status.values()),
            by_status=columns.by_status,
            annotations=columns.annotations,
            annotators=len(columns.annotator_names),
        ),
        agreement=agreement,
        questions=questions,
        annotators=_annotators(columns),
        review=review_report(spec, columns),
        checks=columns.findings,
        prelabels=columns.prelabels,
    )


def _annotators(columns: ProjectColumns) -> list[AnnotatorSummary]:
    """Each annotator's annotations and gold accuracy, busiest first."""
    rows = []
    for code, count in columns.by_annotator.items():
        answered, correct = columns.gold_answered[code], columns.gold_correct[code]
        gold = None
        if answered:
            interval = wilson_interval(correct, answered)
            gold = Figure.of(interval.estimate, interval.low, interval.high)
        rows.append(AnnotatorSummary(columns.annotator_names[code], count, answered, gold))
    return sorted(rows, key=lambda row: (-row.annotations, row.annotator))


def _context(columns: ProjectColumns) -> Context:
    slices = {
        name: (codes(item_codes), book.names)
        for name, (item_codes, book) in columns.items.slices.items()
    }
    return Context(slices, columns.annotator_names, columns.items.gold)


def _against_target(
    spec: ProjectSpec, questions: list[QuestionReport]
) -> tuple[Agreement, list[QuestionReport]]:
    """The overall figure and, per question, whether it meets the spec's agreement target.

    The target is a bar for every question, so it is met only when each question measured by
    its metric reaches it; questions the metric does not apply to (free text; spans for a
    kappa or alpha target) neither meet nor miss it.
    """
    target = spec.quality.agreement_target
    metric = target.metric if target else _DEFAULT_METRIC
    values = {q.name: figure.value for q in questions if (figure := q.agreement.get(metric))}
    measured = [value for value in values.values() if value is not None]
    overall = float(np.mean(measured)) if measured else None
    if target is None:
        return Agreement(metric, overall, len(measured), None, None), questions
    met = {name: value >= target.min for name, value in values.items() if value is not None}
    marked = [dataclasses.replace(q, target_met=met.get(q.name)) for q in questions]
    return Agreement(
        metric, overall, len(measured), target.min, all(met.values()) if met else None
    ), marked
