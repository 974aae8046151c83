"""The dataset card of a release: a markdown page a reader of the data can trust.

It is written once, when the release is frozen, from what the freeze counted (class
balance, guideline versions, annotators, time, items per slice) and from the project's
quality report at that moment (agreement, gold accuracy, the review estimate, how labelers
took model suggestions, open questions, check findings, items per slice in the whole project).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select

from labelwise.db.engine import Database
from labelwise.db.guideline_models import GuidelineVersion
from labelwise.db.models import Escalation, Item, Project
from labelwise.db.release_models import Release
from labelwise.formats.release_table import soft_labels
from labelwise.formats.rows import ReleaseRow
from labelwise.services import gold
from labelwise.services.reporting.prelabels import ModelAcceptance, Outcomes
from labelwise.services.reporting.quality_data import ProjectColumns, codes
from labelwise.services.reporting.quality_model import Figure, QualityReport
from labelwise.spec import FieldSpec, ProjectSpec, QuestionSpec

UNRESOLVED = "(unresolved)"  # a tie nobody settled, as the class balance counts it

NO_VALUE = "(no value)"  # an item without the metadata field, as the coverage lists it

LISTED = 10  # open escalations named on the card; the count covers all of them


@dataclass
class FreezeStats:
    """What the card counts while a release's rows are frozen, in the same pass."""

    slices: list[str]  # the metadata fields the class balance is broken down by
    annotations: int = 0
    annotators: set[str] = field(default_factory=set)
    time_ms: int = 0
    guideline_versions: Counter[int | None] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    # question -> slice field (None: all items) -> slice value -> label -> items
    balance: dict[str, dict[str | None, dict[str, Counter[str]]]] = field(default_factory=dict)
    # slice field -> slice value (None: the item has none) -> items released
    released: dict[str, Counter[str | None]] = field(default_factory=dict)
    # ranking answers the Borda count left open: responses tied on points
    tied_rankings: int = 0

    def add(self, spec: ProjectSpec, row: ReleaseRow) -> None:
        for metadata in self.slices:
            found = row.data.get(metadata)
            released = self.released.setdefault(metadata, Counter())
            released[None if found is None else str(found)] += 1
        for annotation in row.annotations:
            self.annotations += 1
            self.annotators.add(annotation["annotator"])
            self.guideline_versions[annotation["guideline_version"]] += 1
        self.sources.update(row.sources.values())
        for question in spec.questions:
            name = question.name
            if row.sources[name] in ("unanswered", "invalid"):
                continue
            if question.kind.coding == "rankings" and row.answers[name] is None:
                self.tied_rankings += 1
            if not question.kind.categorical:
                continue
            answer = row.answers[name]
            labels = answer if isinstance(answer, list) else [answer]
            per_slice = self.balance.setdefault(name, {})
            for slice_name in [None, *self.slices]:
                value = "all" if slice_name is None else str(row.data.get(slice_name))
                counts = per_slice.setdefault(slice_name, {}).setdefault(value, Counter())
                counts.update(UNRESOLVED if label is None else str(label) for label in labels)


@dataclass(frozen=True)
class CardContext:
    """What the card reads from the project before the freeze."""

    report: QualityReport
    gold: list[gold.GoldScore]
    open_escalations: int
    open_examples: list[tuple[str, str]]  # (item, question asked), the first few
    guideline_notes: dict[int, str]
    # slice field -> slice value -> the project's items, released or not
    slice_totals: dict[str, dict[str | None, int]]


def slice_totals(columns: ProjectColumns) -> dict[str, dict[str | None, int]]:
    """The project's items per value of each metadata field, in the report's snapshot."""
    totals: dict[str, dict[str | None, int]] = {}
    for name, (values, book) in columns.items.slices.items():
        counts = np.bincount(codes(values), minlength=len(book))
        totals[name] = {value: int(n) for value, n in zip(book.names, counts, strict=True)}
    return totals


def gather(
    db: Database,
    project: Project,
    report: QualityReport,
    totals: dict[str, dict[str | None, int]],
) -> CardContext:
    scores = gold.accuracy_by_annotator(db, project.id)
    with db.read() as session:
        waiting = Escalation.project_id == project.id, Escalation.answered_at.is_(None)
        count = session.scalar(select(func.count()).select_from(Escalation).where(*waiting))
        examples = session.execute(
            select(Item.external_id, Item.id, Escalation.question)
            .join(Item, Item.id == Escalation.item_id)
            .where(*waiting)
            .order_by(Escalation.id)
            .limit(LISTED)
        ).all()
        notes = session.execute(
            select(GuidelineVersion.number, GuidelineVersion.note)
            .where(GuidelineVersion.project_id == project.id)
            .order_by(GuidelineVersion.number)
        ).all()
    return CardContext(
        report,
        scores,
        int(count or 0),
        [(external or f"#{item_id}", question) for external, item_id, question in examples],
        {int(number): str(note) for number, note in notes},
        totals,
    )


def render(
    spec: ProjectSpec,
    fields: Sequence[FieldSpec],
    release: Release,
    stats: FreezeStats,
    context: CardContext,
) -> str:
    """The card, naming only `fields` of the spec's (those every reader of it may see)."""
    report = context.report
    parts = [
        f"# {spec.name} — release {release.name}",
        _table(
            ["", ""],
            [
                ["Project", f"`{spec.slug}`"],
                ["Released", release.created_at.strftime("%Y-%m-%d %H:%M UTC")],
                ["Items", f"{release.items:,}"],
                ["Aggregation", release.method],
                ["Content hash (SHA-256)", f"`{release.content_hash}`"],
            ],
        ),
        "## Goal",
        spec.goal.strip() or "_No goal was written in the project spec._",
        "## Schema",
        _table(["field", "type"], [[f.name, f.type] for f in fields]),
        _table(["question", "type", "answers"], [_question_row(q) for q in spec.questions]),
        "## Guidelines",
        _guidelines(stats, context.guideline_notes),
        "## Counts",
        _counts(release, stats, report),
        "## Coverage by slice",
        _coverage(stats, context.slice_totals),
        "## Class balance",
        _balance(spec, stats),
        "## Agreement",
        _agreement(report),
        "## Gold accuracy",
        _gold(context.gold),
        "## Review estimate",
        _review(report),
        "## Model pre-labels",
        _prelabels(report.prelabels),
        "## Known issues",
        _issues(stats, context),
    ]
    return "\n\n".join(parts) + "\n"


def _question_row(question: QuestionSpec) -> list[str]:
    return [question.name, question.type, question.kind.describe(question)]


def _guidelines(stats: FreezeStats, notes: dict[int, str]) -> str:
    if not stats.guideline_versions:
        return "_No annotations._"
    rows = [
        [
            "none" if version is None else f"v{version}",
            f"{count:,}",
            "(annotated before any guidelines were published)"
            if version is None
            else notes.get(version, ""),
        ]
        for version, count in sorted(stats.guideline_versions.items(), key=_version_key)
    ]
    return _table(["version", "annotations", "changelog"], rows)


def _version_key(entry: tuple[int | None, int]) -> int:
    return -1 if entry[0] is None else entry[0]


def _counts(release: Release, stats: FreezeStats, report: QualityReport) -> str:
    hours = stats.time_ms / 3_600_000
    left_out = {s: n for s, n in report.progress.by_status.items() if s != "done" and n}
    rows = [
        ["items released (status done)", f"{release.items:,}"],
        ["items not released yet", _by_status(left_out)],
        ["annotations", f"{stats.annotations:,}"],
        ["annotators", f"{len(stats.annotators):,}"],
        ["time spent annotating", f"{hours:,.1f} h"],
        ["answers by source", ", ".join(f"{s} {n:,}" for s, n in sorted(stats.sources.items()))],
    ]
    return _table(["", ""], rows)


def _by_status(counts: dict[str, int]) -> str:
    if not counts:
        return "0"
    listed = ", ".join(f"{status} {n:,}" for status, n in sorted(counts.items()))
    return f"{sum(counts.values()):,} ({listed})"


def _coverage(stats: FreezeStats, totals: dict[str, dict[str | None, int]]) -> str:
    if not stats.slices:
        return "_No metadata fields to slice by._"
    parts = ["Items released of the project's items, per value of each metadata field:"]
    for name in stats.slices:
        released, total = stats.released.get(name, Counter()), totals.get(name, {})
        rows = [
            [
                NO_VALUE if value is None else value,
                f"{released[value]:,}",
                f"{total.get(value, 0):,}",
                _coverage_share(released[value], total.get(value, 0)),
            ]
            for value in sorted(total.keys() | released.keys(), key=_slice_order)
        ]
        parts += [f"**`{name}`**", _table([name, "released", "items", "coverage"], rows)]
    return "\n\n".join(parts)


def _slice_order(value: str | None) -> tuple[bool, str]:
    return value is None, value or ""


def _coverage_share(released: int, total: int) -> str:
    # An item imported and finished between the report's snapshot and the freeze is released
    # but not in the snapshot's count: shown as it is rather than as a share over 100%.
    return f"{released / total:.0%}" if total >= released and total else "—"


def _balance(spec: ProjectSpec, stats: FreezeStats) -> str:
    if not stats.balance:
        return "_No label questions._"
    parts = []
    for question in spec.questions:
        per_slice = stats.balance.get(question.name)
        if per_slice is None:
            continue
        # Every label of the question, chosen or not: a class nobody got is worth seeing.
        seen = {label for values in per_slice.values() for c in values.values() for label in c}
        known = list(soft_labels(question))
        labels = known + sorted(seen.difference(known))
        for slice_name, values in per_slice.items():
            title = f"**{question.name}**" + ("" if slice_name is None else f" by `{slice_name}`")
            rows = [
                [value, *(_share(counts[label], counts.total()) for label in labels)]
                for value, counts in sorted(values.items())
            ]
            parts += [title, _table([slice_name or "", *labels], rows)]
    return "\n\n".join(parts)


def _share(count: int, total: int) -> str:
    return f"{count:,} ({count / total:.0%})" if total else "0"


def _agreement(report: QualityReport) -> str:
    overall = report.agreement
    head = f"Overall ({overall.metric}): {_number(overall.value)}"
    if overall.target is not None:
        head += f"; target {overall.target:g}, {'met' if overall.met else 'not met'}"
    rows = [
        [
            q.name,
            q.metric or "—",
            _figure(q.agreement.get(q.metric)) if q.metric else "—",
            f"{q.items:,}",
        ]
        for q in report.questions
    ]
    parts = [head, _table(["question", "metric", "value (95% CI)", "items"], rows)]
    by_version = [
        [
            q.name,
            "none" if v.version is None else f"v{v.version}",
            f"{v.items:,}",
            _number(v.agreement),
        ]
        for q in report.questions
        for v in q.versions
    ]
    if by_version:
        parts += [
            "Per guideline version (answers compared only with answers made under the same one):",
            _table(["question", "guidelines", "items", "agreement"], by_version),
        ]
    return "\n\n".join(parts)


def _figure(figure: Figure | None) -> str:
    if figure is None or figure.value is None:
        return "—"
    if figure.low is None or figure.high is None:
        return f"{figure.value:.3f}"
    return f"{figure.value:.3f} ({figure.low:.3f}–{figure.high:.3f})"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _gold(scores: Sequence[gold.GoldScore]) -> str:
    answered = sum(s.answered for s in scores)
    if not answered:
        return "_No gold answers were given._"
    correct = sum(s.correct for s in scores)
    rows = [
        [s.annotator, f"{s.answered:,}", f"{s.accuracy:.1%} ({s.low:.1%}–{s.high:.1%})"]
        for s in scores
    ]
    head = f"{correct:,} of {answered:,} gold answers right ({correct / answered:.1%})."
    return head + "\n\n" + _table(["annotator", "gold answers", "accuracy (95% CI)"], rows)


def _review(report: QualityReport) -> str:
    review = report.review
    estimate = review.estimate
    if estimate is None:
        return f"_No estimate (review policy: {review.policy})._"
    return (
        f"Estimated label accuracy {_figure(estimate.accuracy)}, from "
        f"{estimate.reviewed_items:,} reviewed of {estimate.finished_items:,} finished items "
        f"(review policy {review.policy}"
        + (f", stratified by `{review.slice_by}`" if review.slice_by else "")
        + ")."
    )


def _prelabels(models: Sequence[ModelAcceptance]) -> str:
    if not models:
        return "_No model suggestions were shown to labelers._"
    head = ["accepted", "edited", "rejected"]
    whole = [[m.model, f"{m.outcomes.shown:,}", *_outcomes(m.outcomes)] for m in models]
    labels = [
        [m.model, row.question, row.label, f"{row.outcomes.shown:,}", *_outcomes(row.outcomes)]
        for m in models
        for row in m.labels
    ]
    parts = [
        "Answers given with a model's suggestion pre-filled, by what the labeler made of it "
        "(accepted unchanged, edited, rejected):",
        _table(["model", "answers", *head], whole),
    ]
    if labels:
        parts += [
            "Per predicted label:",
            _table(["model", "question", "label", "predicted", *head], labels),
        ]
    return "\n\n".join(parts)


def _outcomes(outcomes: Outcomes) -> list[str]:
    counts = (outcomes.accepted, outcomes.edited, outcomes.rejected)
    return [_share(count, outcomes.shown) for count in counts]


def _issues(stats: FreezeStats, context: CardContext) -> str:
    lines = []
    unanswered = stats.sources.get("unanswered", 0)
    ties = sum(
        c.get(UNRESOLVED, 0) for q in stats.balance.values() for c in q.get(None, {}).values()
    )
    if ties:
        lines.append(f"- {ties:,} label answers left unresolved (tied votes).")
    if stats.tied_rankings:
        lines.append(
            f"- {stats.tied_rankings:,} ranking answers left unresolved "
            "(responses tied on Borda points)."
        )
    if unanswered:
        lines.append(f"- {unanswered:,} answers left empty (no annotator answered).")
    if invalid := stats.sources.get("invalid", 0):
        lines.append(f"- {invalid:,} answers left out: they no longer fit the questions.")
    if context.open_escalations:
        waiting = context.open_escalations
        lines.append(f"- {waiting:,} open escalations (questions not answered yet)")
        lines += [open_question_line(item, q) for item, q in context.open_examples]
    for check, count in sorted(context.report.checks.items()):
        lines.append(f"- check `{check}`: {count:,} findings")
    return "\n".join(lines) or "_None known._"


def open_question_line(item: str, question: str) -> str:
    """The card's line for an open question (an erasure takes it out again)."""
    return f"{open_question_prefix(item)}{_one_line(question)}"


def open_question_prefix(item: str) -> str:
    return f"- open question on `{item}`: "


def annotator_row_prefix(name: str) -> str:
    """How a table row about annotator `name` starts (an erasure renames it)."""
    return f"| {_cell(name)} |"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: str) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")
