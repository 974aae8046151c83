"""One streaming pass over a project's items, annotations and reviews, into integer arrays.

Items are read a keyset page at a time with their annotations, and every answer is coded on
the way in, so memory grows with the annotations as machine integers (a few per answer), not
as Python objects per annotation. Span answers are scored item by item as they stream past,
since a pair of annotators' spans only ever meet on one item.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, groupby
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select

from labelwise.db.counts import finding_counts, status_counts
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, GoldAnswer, Item, Review
from labelwise.db.pages import items_in_project, keyset_pages, read_on
from labelwise.quality import Span, SpanMatch, pairwise_span_f1
from labelwise.services import accounts
from labelwise.services.gold import is_correct
from labelwise.services.reporting.prelabels import ModelAcceptance, acceptance
from labelwise.services.workflow.corrections import corrections, effective_answers
from labelwise.services.workflow.item_flow import stratum_key
from labelwise.spec import ProjectSpec, QuestionSpec
from labelwise.spec.questions import Coding

PAGE = 5000
# Items whose annotation is complete: the population the review sample is drawn from.
FINISHED = frozenset({"in_review", "in_adjudication", "done"})
_items = Item.__table__
_annotations = Annotation.__table__
_reviews = Review.__table__


K = TypeVar("K", bound=Hashable)


class Codebook(Generic[K]):
    """Integer codes for values (annotators, slice values), in order of first appearance."""

    def __init__(self) -> None:
        self._codes: dict[K, int] = {}

    def __call__(self, value: K) -> int:
        return self._codes.setdefault(value, len(self._codes))

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def names(self) -> list[K]:
        return list(self._codes)


def codes(values: Sequence[int]) -> npt.NDArray[np.intp]:
    """Codes collected in an array('q') or array('B'), as a numpy index array."""
    return np.asarray(values, dtype=np.intp)


# One answer as it streams in: (annotator code, value, guideline version; 0: before any).
Answer = tuple[int, Any, int]


class AnswerColumns:
    """Who answered a question on which item, under which guideline version: one (item,
    annotator, version) code triple per answer."""

    def __init__(self) -> None:
        self.items = array("q")
        self.annotators = array("q")
        self.versions = array("q")
        # Answers that no longer fit the question (its labels changed since): left out.
        self.unmatched = 0

    def add_item(self, item: int, answers: Sequence[Answer]) -> None:
        for annotator, _, version in answers:
            self._row(item, annotator, version)

    def _row(self, item: int, annotator: int, version: int) -> None:
        self.items.append(item)
        self.annotators.append(annotator)
        self.versions.append(version)


class LabelColumns(AnswerColumns):
    """Answers coded as "labels" (single-label, preference, rating) as codes into the
    question kind's categories."""

    def __init__(self, choices: Sequence[Hashable]) -> None:
        super().__init__()
        self.choices = tuple(choices)
        self._position = {choice: code for code, choice in enumerate(self.choices)}
        self.labels = array("q")

    def code(self, value: Any) -> int | None:
        """The code of an answer, None if it is not one of the choices."""
        return self._position.get(value) if isinstance(value, str | int | float) else None

    def add_item(self, item: int, answers: Sequence[Answer]) -> None:
        # The hot loop of a report (once per answer): no method calls beyond the appends.
        position = self._position
        for annotator, value, version in answers:
            code = position.get(value) if isinstance(value, str | int | float) else None
            if code is None:
                self.unmatched += 1
                continue
            self.items.append(item)
            self.annotators.append(annotator)
            self.versions.append(version)
            self.labels.append(code)


class NumberColumns(AnswerColumns):
    def __init__(self) -> None:
        super().__init__()
        self.values = array("d")

    def add_item(self, item: int, answers: Sequence[Answer]) -> None:
        for annotator, value, version in answers:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.unmatched += 1
                continue
            self._row(item, annotator, version)
            self.values.append(float(value))


class MultiLabelColumns(AnswerColumns):
    """Multi-label answers as one 0/1 flag per choice and answer (row-major)."""

    def __init__(self, choices: Sequence[str]) -> None:
        super().__init__()
        self.choices = tuple(choices)
        self._position = {choice: code for code, choice in enumerate(self.choices)}
        self.selected = array("B")

    def add_item(self, item: int, answers: Sequence[Answer]) -> None:
        for annotator, value, version in answers:
            if not isinstance(value, list) or any(label not in self._position for label in value):
                self.unmatched += 1
                continue
            self._row(item, annotator, version)
            flags = [0] * len(self.choices)
            for label in value:
                flags[self._position[label]] = 1
            self.selected.extend(flags)


class SpanColumns(AnswerColumns):
    """Span answers, scored per item: the pairwise F1 counts, overall and per label.

    For each item with two or more annotators: `total` is the number of spans on both sides
    of every annotator pair and `exact`/`overlap` how many the other side matched, so the
    project's micro F1 is sum(matched) / sum(total) and any slice of items sums the same way.
    """

    def __init__(self, choices: Sequence[str]) -> None:
        super().__init__()
        self.choices = tuple(choices)
        self.spans_per_label = [0] * len(self.choices)
        self.scored_items = array("q")
        self.total = array("q")
        self.exact = array("q")
        self.overlap = array("q")
        self.label_total = array("q")  # one per choice and scored item (row-major)
        self.label_exact = array("q")
        # The same exact-match counts, with pairs only within one guideline version.
        self.version_codes = array("q")
        self.version_total = array("q")
        self.version_exact = array("q")
        # Per annotator code, over the pairs they are in: spans matched, spans on both sides.
        self.annotator_exact: Counter[Hashable] = Counter()
        self.annotator_total: Counter[Hashable] = Counter()

    def add_item(self, item: int, answers: Sequence[Answer]) -> None:
        marked: dict[Hashable, Sequence[Span]] = {}
        under: dict[Hashable, int] = {}
        for annotator, value, version in answers:
            spans = _spans(value, self.choices)
            if spans is None:
                self.unmatched += 1
                continue
            self._row(item, annotator, version)
            marked[annotator] = spans
            under[annotator] = version
            for span in spans:
                self.spans_per_label[self.choices.index(span.label)] += 1
        if len(set(under.values())) > 1:
            self._score_versions(marked, under)
        if len(marked) < 2:
            return
        self.scored_items.append(item)
        self._score_annotators(marked)
        matched, totals = _exact_by_label(marked)
        exact, total = sum(matched.values()), sum(totals.values())
        if len(set(under.values())) == 1:
            self._version_row(next(iter(under.values())), exact, total)
        self.exact.append(exact)
        self.overlap.append(_pair_counts(marked, "overlap")[0])
        self.total.append(total)
        for label in self.choices:
            self.label_total.append(totals[label])
            self.label_exact.append(matched[label])

    def _score_annotators(self, marked: dict[Hashable, Sequence[Span]]) -> None:
        """Each pair's exact counts, added to both of its annotators."""
        marks = {annotator: Counter(spans) for annotator, spans in marked.items()}
        for (first, a), (second, b) in combinations(marks.items(), 2):
            matched = 2 * sum((a & b).values())
            total = len(marked[first]) + len(marked[second])
            for annotator in (first, second):
                self.annotator_exact[annotator] += matched
                self.annotator_total[annotator] += total

    def _score_versions(
        self, marked: dict[Hashable, Sequence[Span]], under: dict[Hashable, int]
    ) -> None:
        for version in sorted(set(under.values())):
            group = {a: spans for a, spans in marked.items() if under[a] == version}
            if len(group) >= 2:
                matched, totals = _exact_by_label(group)
                self._version_row(version, sum(matched.values()), sum(totals.values()))

    def _version_row(self, version: int, exact: int, total: int) -> None:
        self.version_codes.append(version)
        self.version_exact.append(exact)
        self.version_total.append(total)


class RankingColumns(AnswerColumns):
    """Rankings as the place of each response: one row of `places` per answer (row-major),
    0 for the best. The report pairs them up by item afterwards, all items at once."""

    def __init__(self, responses: Sequence[str]) -> None:
        super().__init__()
        self.responses = tuple(responses)
        self._position = {name: code for code, name in enumerate(self.responses)}
        self.places = array("q")

    def add_item(self, item: int, answers: Sequence[Answer]) -> None:
        for annotator, value, version in answers:
            places = self._places(value)
            if places is None:
                self.unmatched += 1
                continue
            self._row(item, annotator, version)
            self.places.extend(places)

    def _places(self, value: Any) -> list[int] | None:
        """Each response's place (0: best), None unless `value` ranks every response once."""
        position = self._position
        if not isinstance(value, list) or len(value) != len(position):
            return None
        places = [-1] * len(position)
        for place, name in enumerate(value):
            code = position.get(name) if isinstance(name, str) else None
            if code is None or places[code] >= 0:
                return None
            places[code] = place
        return places


def _spans(value: Any, choices: Sequence[str]) -> list[Span] | None:
    if not isinstance(value, list):
        return None
    try:
        spans = [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in value]
    except (TypeError, KeyError, ValueError):
        return None
    return spans if all(span.label in choices for span in spans) else None


def _exact_by_label(
    marked: Mapping[Hashable, Sequence[Span]],
) -> tuple[Counter[str], Counter[str]]:
    """Per label, over every annotator pair on one item: the spans the other side marked
    identically, and all spans (|A| + |B| per pair): `pairwise_span_f1`'s exact counts, with
    one multiset intersection per pair for every label at once."""
    marks = [Counter(spans) for spans in marked.values()]
    matched: Counter[str] = Counter()
    for first, second in combinations(marks, 2):
        for span, times in (first & second).items():
            matched[span.label] += 2 * times
    spans: Counter[str] = Counter()
    for mark in marks:
        for span, times in mark.items():
            spans[span.label] += (len(marks) - 1) * times
    return matched, spans


def _pair_counts(marked: Mapping[Hashable, Sequence[Span]], match: SpanMatch) -> tuple[int, int]:
    """(matched, total) over every annotator pair on one item.

    Each pair's total is |A| + |B|, so over all pairs of m annotators it is (m - 1) times
    the spans marked; the matched count is the library's F1 times that total.
    """
    total = (len(marked) - 1) * sum(len(spans) for spans in marked.values())
    if total == 0:
        return 0, 0
    one_item: dict[Hashable, Mapping[Hashable, Sequence[Span]]] = {0: marked}
    f1 = pairwise_span_f1(one_item, match)
    return round(f1 * total), total


# The columns that hold each coding of answers (a question kind's `coding`).
_COLLECTORS: dict[Coding, Callable[[QuestionSpec], AnswerColumns]] = {
    "labels": lambda question: LabelColumns(question.kind.categories(question)),
    "label_sets": lambda question: MultiLabelColumns(question.choices),
    "numbers": lambda question: NumberColumns(),
    "spans": lambda question: SpanColumns(question.choices),
    "rankings": lambda question: RankingColumns(question.response_names),
    "none": lambda question: AnswerColumns(),
}


def collector_for(question: QuestionSpec) -> AnswerColumns:
    """The columns that hold answers of this question's type."""
    return _COLLECTORS[question.kind.coding](question)


@dataclass
class ItemColumns:
    """Per item code: its database id (ascending), whether it is finished, its slice codes."""

    ids: array[int] = field(default_factory=lambda: array("q"))
    finished: array[int] = field(default_factory=lambda: array("B"))
    slices: dict[str, tuple[array[int], Codebook[str | None]]] = field(default_factory=dict)
    strata: array[int] = field(default_factory=lambda: array("q"))
    stratum_names: Codebook[str | None] = field(default_factory=Codebook)
    # Answers settled by adjudication, and gold answers, by item code: few, kept as they are.
    final_answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    gold: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ProjectColumns:
    """Everything a quality report reads from the database, read in one snapshot."""

    items: ItemColumns
    answers: dict[str, AnswerColumns]
    annotator_names: list[str] = field(default_factory=list)
    annotations: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    # The first verdict on each reviewed annotation: its item code, and 1 if it was "accept".
    reviewed_items: array[int] = field(default_factory=lambda: array("q"))
    accepted: array[int] = field(default_factory=lambda: array("B"))
    # Per annotator code: annotations, answers to gold items and how many of those were right.
    by_annotator: Counter[int] = field(default_factory=Counter)
    gold_answered: Counter[int] = field(default_factory=Counter)
    gold_correct: Counter[int] = field(default_factory=Counter)
    # How labelers took each model's suggestions.
    prelabels: list[ModelAcceptance] = field(default_factory=list)


def load(
    db: Database, project_id: int, spec: ProjectSpec, questions: Sequence[QuestionSpec]
) -> ProjectColumns:
    """Read the project in keyset pages inside one read snapshot: the figures agree."""
    columns = ProjectColumns(_item_columns(spec), {q.name: collector_for(q) for q in questions})
    annotators: Codebook[int] = Codebook()
    with db.snapshot() as session:
        connection = session.connection()
        gold = _gold_answers(connection, project_id)
        for page in _item_pages(connection, project_id):
            first, last = page[0][0], page[-1][0]
            fixes = corrections(connection, project_id, first, last)
            item_codes = _add_items(columns.items, spec, page, gold)
            rows = annotation_rows(connection, project_id, first, last)
            for item_id, group in groupby(rows, key=lambda row: row[1]):
                found = list(group)
                who = [annotators(r[2]) for r in found]
                answers = [
                    (w, effective_answers(r, fixes), r[5] or 0)
                    for w, r in zip(who, found, strict=True)
                ]
                columns.annotations += len(answers)
                item = item_codes[item_id]
                _add_answers(columns.answers, item, answers)
                _tally(columns, who, gold.get(item_id), [r[3] for r in found])
        names = accounts.usernames(connection)
        columns.annotator_names = [names.get(uid, str(uid)) for uid in annotators.names]
        columns.by_status = status_counts(connection, [project_id]).get(project_id, {})
        columns.verdicts = _verdict_counts(connection, project_id)
        columns.findings = finding_counts(connection, project_id)
        columns.prelabels = acceptance(connection, project_id)
        _first_verdicts(connection, project_id, columns)
    return columns


def _tally(
    columns: ProjectColumns,
    who: Sequence[int],
    gold: dict[str, Any] | None,
    given: Sequence[dict[str, Any]],
) -> None:
    """Count each annotation, and on a gold item score the answers as the annotators gave
    them (a reviewer's correction is not the annotator's answer), as `gold.is_correct` does."""
    columns.by_annotator.update(who)
    if gold is None:
        return
    for annotator, answers in zip(who, given, strict=True):
        columns.gold_answered[annotator] += 1
        columns.gold_correct[annotator] += is_correct(gold, answers)


def _item_columns(spec: ProjectSpec) -> ItemColumns:
    metadata = [f.name for f in spec.fields if f.type == "metadata"]
    return ItemColumns(slices={name: (array("q"), Codebook[str | None]()) for name in metadata})


def _item_pages(connection: Connection, project_id: int) -> Iterator[Sequence[Any]]:
    query = select(_items.c.id, _items.c.status, _items.c.data, _items.c.final_answers).where(
        items_in_project(project_id)
    )
    return keyset_pages(read_on(connection), query, _items.c.id, start=0, size=PAGE)


def _add_items(
    items: ItemColumns, spec: ProjectSpec, page: Sequence[Any], gold: dict[int, dict[str, Any]]
) -> dict[int, int]:
    """Append a page of items, with the gold answers of those that have one; their codes by
    database id."""
    review = spec.workflow.review
    slice_by = review.slice_by if review.policy == "stratified" else None
    codes: dict[int, int] = {}
    for item_id, status, data, final_answers in page:
        code = codes[item_id] = len(items.ids)
        items.ids.append(item_id)
        items.finished.append(status in FINISHED)
        for name, (values, book) in items.slices.items():
            value = data.get(name)
            values.append(book(None if value is None else str(value)))
        stratum = None if slice_by is None else stratum_key(data, slice_by)
        items.strata.append(items.stratum_names(stratum))
        if final_answers is not None:
            items.final_answers[code] = final_answers
        if item_id in gold:
            items.gold[code] = gold[item_id]
    return codes


def annotation_rows(
    connection: Connection, project_id: int, first: int, last: int
) -> Iterator[Any]:
    """The annotations of the items `first`..`last`, by item: id, item_id, user_id, answers,
    review_status, guideline_version."""
    return iter(
        connection.execute(
            select(
                _annotations.c.id,
                _annotations.c.item_id,
                _annotations.c.user_id,
                _annotations.c.answers,
                _annotations.c.review_status,
                _annotations.c.guideline_version,
            )
            .where(
                _annotations.c.project_id == project_id,
                _annotations.c.item_id.between(first, last),
            )
            .order_by(_annotations.c.item_id, _annotations.c.id)
        )
    )


def _add_answers(
    collectors: dict[str, AnswerColumns], item: int, answers: list[tuple[int, dict[str, Any], int]]
) -> None:
    for name, collector in collectors.items():
        given = [(who, found[name], v) for who, found, v in answers if found.get(name) is not None]
        if given:
            collector.add_item(item, given)


def _verdict_counts(connection: Connection, project_id: int) -> dict[str, int]:
    rows = connection.execute(
        select(_reviews.c.verdict, func.count())
        .where(_reviews.c.project_id == project_id)
        .group_by(_reviews.c.verdict)
    )
    return {verdict: int(count) for verdict, count in rows}


def _first_verdicts(connection: Connection, project_id: int, columns: ProjectColumns) -> None:
    """The first verdict on each annotation: it judged the label as the annotator gave it,
    which is what the unreviewed rest of the data still looks like (a later verdict judges
    the rework)."""
    first = (
        select(func.min(_reviews.c.id))
        .where(_reviews.c.project_id == project_id)
        .group_by(_reviews.c.annotation_id)
    )
    rows = connection.execute(
        select(_reviews.c.item_id, _reviews.c.verdict)
        .where(_reviews.c.id.in_(first))
        .order_by(_reviews.c.item_id)
    )
    ids = columns.items.ids  # ascending, so an item's code is found by binary search
    for item_id, verdict in rows:
        columns.reviewed_items.append(bisect_left(ids, item_id))
        columns.accepted.append(verdict == "accept")


def _gold_answers(connection: Connection, project_id: int) -> dict[int, dict[str, Any]]:
    """The gold answers by item id: few, read first so the pass can score answers to them."""
    rows = connection.execute(
        select(GoldAnswer.item_id, GoldAnswer.answers).where(GoldAnswer.project_id == project_id)
    )
    return {item_id: answers for item_id, answers in rows}
