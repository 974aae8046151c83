"""The dashboard's quality figures: agreement per guideline version with its interval and the
target, class balance overall and per slice, gold accuracy per annotator.

They are what the quality report computes, and like it they read every answer
(`quality_data.load`), which takes minutes on a project of millions of annotations. So they are
kept in `dashboard_snapshots` with the project's audit-chain position: a page shows the last
snapshot and whether the project changed since; a small project's is recomputed on the page
load itself, a big one's when someone asks (in the background, one at a time per project).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from pydantic import TypeAdapter
from sqlalchemy import Connection, delete, insert, select

from labelwise.clock import now
from labelwise.db.audit_chain import chain_of
from labelwise.db.audit_models import AuditHead
from labelwise.db.engine import Database
from labelwise.db.models import DashboardSnapshot, Project
from labelwise.quality import bootstrap_ci, krippendorff_alpha
from labelwise.services.projects import spec_of
from labelwise.services.reporting.dashboard_model import (
    ClassBalance,
    GoldRow,
    QualityFigures,
    QuestionAgreement,
    VersionAgreement,
)
from labelwise.services.reporting.quality_data import (
    AnswerColumns,
    LabelColumns,
    MultiLabelColumns,
    NumberColumns,
    ProjectColumns,
    codes,
    load,
)
from labelwise.services.reporting.quality_model import Figure, QualityReport
from labelwise.services.reporting.quality_report import report_of
from labelwise.spec import QuestionSpec

# Up to this many annotations a page recomputes stale figures itself (a fraction of a second;
# 30,000 took 8 s on the loaded bench machine).
INLINE_ANNOTATIONS = 2_000
RESAMPLES = 200
_FIGURES = TypeAdapter(QualityFigures)
_running: set[int] = set()
_running_lock = threading.Lock()
IntArray = npt.NDArray[np.intp]


def audit_seq(connection: Connection, project_id: int) -> int:
    """Where the project's audit chain stands: every change to its work moves it."""
    seq = connection.scalar(select(AuditHead.seq).where(AuditHead.chain == chain_of(project_id)))
    return int(seq or 0)


def stored(connection: Connection, project_id: int) -> tuple[QualityFigures, int] | None:
    """The last snapshot and the audit position it is true at."""
    row = connection.execute(
        select(DashboardSnapshot.figures, DashboardSnapshot.audit_seq).where(
            DashboardSnapshot.project_id == project_id
        )
    ).first()
    return None if row is None else (_FIGURES.validate_json(row[0]), int(row[1]))


def recompute(db: Database, project: Project) -> QualityFigures:
    """Compute the figures from every answer and keep them as the project's snapshot."""
    started, spec = time.perf_counter(), spec_of(project)
    with db.snapshot() as session:
        seq = audit_seq(session.connection(), project.id)
    columns = load(db, project.id, spec, spec.questions)
    report = report_of(project, spec, columns)
    figures = QualityFigures(
        computed_at=now(),
        seconds=round(time.perf_counter() - started, 3),
        annotations=columns.annotations,
        metric=report.agreement.metric,
        target=report.agreement.target,
        agreement=_agreement(spec.questions, report, columns),
        balance=_balance(spec.questions, columns),
        gold=_gold(report),
    )
    with db.write() as session:
        session.execute(delete(DashboardSnapshot).where(DashboardSnapshot.project_id == project.id))
        session.execute(
            insert(DashboardSnapshot).values(
                project_id=project.id,
                audit_seq=seq,
                computed_at=figures.computed_at,
                seconds=figures.seconds,
                figures=_FIGURES.dump_json(figures).decode(),
            )
        )
    return figures


def computing(project_id: int) -> bool:
    """Whether this process is recomputing the project's figures now."""
    with _running_lock:
        return project_id in _running


def claim(project_id: int) -> bool:
    """Mark the project's figures as being recomputed by this process; False if they already
    are (a second click on a big project would only double the work)."""
    with _running_lock:
        if project_id in _running:
            return False
        _running.add(project_id)
        return True


def recompute_claimed(db: Database, project: Project) -> None:
    """`recompute` after `claim`, releasing the claim however it ends."""
    try:
        recompute(db, project)
    finally:
        with _running_lock:
            _running.discard(project.id)


def _agreement(
    questions: list[QuestionSpec], report: QualityReport, columns: ProjectColumns
) -> list[QuestionAgreement]:
    rows = []
    for question, found in zip(questions, report.questions, strict=True):
        if found.metric is None:
            continue
        answers = columns.answers[question.name]
        versions = [
            VersionAgreement(
                row.version,
                row.items,
                row.annotations,
                _with_interval(question, answers, row.version or 0, row.agreement),
            )
            for row in found.versions
        ]
        rows.append(
            QuestionAgreement(
                question.name,
                question.type,
                found.metric,
                found.agreement.get(found.metric),
                versions,
                found.target_met,
            )
        )
    return rows


def _with_interval(
    question: QuestionSpec, answers: AnswerColumns, version: int, value: float | None
) -> Figure:
    """The version's figure with a bootstrap 95% interval over its items, for the questions
    measured by Krippendorff's alpha (labels and numbers); others show the figure alone."""
    statistic = _alpha_of_version(question, answers, version)
    if value is None or statistic is None:
        return Figure(value)
    units, function = statistic
    interval = bootstrap_ci(units, function, n_resamples=RESAMPLES)
    return Figure.of(value, interval.low, interval.high)


def _alpha_of_version(
    question: QuestionSpec, answers: AnswerColumns, version: int
) -> tuple[IntArray, Callable[[IntArray, IntArray], float]] | None:
    level = question.kind.level
    if level is None or not isinstance(answers, LabelColumns | NumberColumns):
        return None
    mine = np.flatnonzero(codes(answers.versions) == version)
    _, units = np.unique(codes(answers.items)[mine], return_inverse=True)
    if isinstance(answers, LabelColumns):
        labels = codes(answers.labels)[mine]
        return units, lambda rows, u: krippendorff_alpha(u, labels[rows], level)
    domain, values = np.unique(np.asarray(answers.values, np.float64)[mine], return_inverse=True)
    return units, lambda rows, u: krippendorff_alpha(u, values[rows], level, domain)


def _balance(questions: list[QuestionSpec], columns: ProjectColumns) -> list[ClassBalance]:
    """Label counts of the questions answered with labels (one or several per answer)."""
    rows = []
    for question in questions:
        answers = columns.answers[question.name]
        if not isinstance(answers, LabelColumns | MultiLabelColumns):
            continue
        item_codes = codes(answers.items)
        overall = _counts(answers, np.zeros(item_codes.size, np.intp), 1)[0]
        slices = {
            name: _per_slice(answers, codes(item_slices)[item_codes], book.names)
            for name, (item_slices, book) in columns.items.slices.items()
        }
        labels = [str(choice) for choice in answers.choices]
        rows.append(ClassBalance(question.name, labels, overall.tolist(), slices))
    return rows


def _counts(
    answers: LabelColumns | MultiLabelColumns, groups: IntArray, n_groups: int
) -> npt.NDArray[np.intp]:
    """(group, label) -> how many answers of the group gave the label."""
    k = len(answers.choices)
    if isinstance(answers, LabelColumns):
        flat = np.bincount(groups * k + codes(answers.labels), minlength=n_groups * k)
        return flat.reshape(n_groups, k)
    selected = codes(answers.selected).reshape(-1, k)
    per_label = [np.bincount(groups, selected[:, j], n_groups) for j in range(k)]
    return np.stack(per_label, axis=1).astype(np.intp).reshape(n_groups, k)


def _per_slice(
    answers: LabelColumns | MultiLabelColumns, groups: IntArray, values: list[str | None]
) -> dict[str, list[int]]:
    """Label counts per slice value (a missing value shows as "(none)")."""
    totals = _counts(answers, groups, len(values))
    return {
        "(none)" if value is None else str(value): totals[g].tolist()
        for g, value in enumerate(values)
        if totals[g].any()
    }


def _gold(report: QualityReport) -> list[GoldRow]:
    return [
        GoldRow(row.annotator, row.gold_answers, row.gold_accuracy)
        for row in report.annotators
        if row.gold_accuracy is not None
    ]
