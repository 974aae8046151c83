"""The consensus answer of every item to one question, for the export and dataset releases.

`consensus()` returns a read-only mapping from item id to (answer, confidence, probabilities).
Inside it holds numpy arrays, and each entry is built when it is looked up, so an export that
walks a million items asks for one entry at a time instead of holding a million tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.errors import InvalidInput, NotFound
from labelwise.quality import (
    Consensus,
    aggregate_numbers,
    borda_count,
    dawid_skene,
    majority_vote,
    multilabel_vote,
)
from labelwise.services.projects import spec_of
from labelwise.services.reporting.quality_data import (
    AnswerColumns,
    ItemColumns,
    LabelColumns,
    MultiLabelColumns,
    NumberColumns,
    ProjectColumns,
    RankingColumns,
    codes,
    load,
)
from labelwise.services.reporting.vote_weights import (
    gold_labels,
    vote_weights,
    weighted_consensus,
)
from labelwise.spec import QuestionSpec

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
# The consensus methods a project export or a release may ask for (a question type without
# the one asked for takes its own default: median for numbers, borda for rankings).
METHODS = ("majority", "dawid-skene", "weighted")


class ItemConsensus(NamedTuple):
    """An item's consensus answer.

    `answer`: the label (None when the top labels tied: ties are never settled by label
    order), the list of labels chosen by a strict majority (multi-label), the number, or the
    responses best first by the Borda count (None when two tie on points).
    `confidence`: the probability of the chosen label; for multi-label the lowest share of
    agreement over the labels decided; for a ranking the share of the annotators' ordered
    pairs of responses it keeps; None for numbers. `probabilities`: every label's vote share
    or Dawid-Skene posterior (multi-label: each label's share of votes; ranking: each
    response's share of first places); None for numbers.
    """

    answer: Any
    confidence: float | None
    probabilities: dict[str, float] | None


class ConsensusTable(Mapping[int, ItemConsensus]):
    """Item id -> ItemConsensus for the items answered (or adjudicated), built on lookup."""

    def __init__(
        self,
        item_ids: IntArray,
        entry: Callable[[int], ItemConsensus],
        settled: dict[int, ItemConsensus],
    ) -> None:
        self._ids = item_ids  # ascending
        self._entry = entry
        self._settled = settled

    def __getitem__(self, item_id: int) -> ItemConsensus:
        row = int(np.searchsorted(self._ids, item_id))
        if row == self._ids.size or self._ids[row] != item_id:
            raise KeyError(item_id)
        settled = self._settled.get(row)
        return settled if settled is not None else self._entry(row)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return int(self._ids.size)


def consensus(
    db: Database, project_id: int, question: str, method: str | None = None
) -> ConsensusTable:
    """The consensus of `question` on every item that has an answer to it.

    `method`: one of the question kind's `consensus` methods (majority, dawid-skene or
    weighted, see `vote_weights`, for single-label, preference and rating questions, majority
    for multi-label, median or mean for numbers, borda for rankings); the default is its first.
    An item settled by adjudication answers with the adjudicator's decision at confidence 1:
    a person's ruling on a disagreement outranks any vote over it.
    """
    project = _project(db, project_id)
    spec = spec_of(project)
    try:
        asked = spec.question(question)
    except KeyError as error:
        raise InvalidInput(f"question: {error.args[0]}") from None
    chosen = _method(asked, method)
    return consensus_of(load(db, project_id, spec, [asked]), asked, chosen)


def consensus_of(columns: ProjectColumns, question: QuestionSpec, method: str) -> ConsensusTable:
    """`consensus` from columns already loaded (a release loads the project once for all)."""
    answers = columns.answers[question.name]
    item_codes = np.union1d(
        codes(answers.items), _settled_items(columns.items, question.name)
    ).astype(np.intp)
    entry = _entries(question, answers, method, item_codes, columns.items.gold)
    settled = _settled(columns.items, question, item_codes)
    return ConsensusTable(codes(columns.items.ids)[item_codes], entry, settled)


def _project(db: Database, project_id: int) -> Project:
    with db.read() as session:
        project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def _method(question: QuestionSpec, method: str | None) -> str:
    allowed = question.kind.consensus
    if not allowed:
        raise InvalidInput(f"{question.name}: {question.type} answers have no consensus here")
    if method is None:
        return allowed[0]
    if method not in allowed:
        raise InvalidInput(
            f"method: a {question.type} question takes {' or '.join(allowed)}; got {method!r}"
        )
    return method


def _entries(
    question: QuestionSpec,
    answers: AnswerColumns,
    method: str,
    item_codes: IntArray,
    gold: Mapping[int, Mapping[str, object]],
) -> Callable[[int], ItemConsensus]:
    """A function from row (position in `item_codes`) to that item's consensus."""
    rows = np.searchsorted(item_codes, codes(answers.items))
    n = int(item_codes.size)
    if isinstance(answers, LabelColumns):
        return _label_entries(answers, _label_consensus(question, answers, rows, n, method, gold))
    if isinstance(answers, MultiLabelColumns):
        return _multi_label_entries(answers, rows, n)
    if isinstance(answers, RankingColumns):
        return _ranking_entries(answers, rows, n)
    assert isinstance(answers, NumberColumns)  # no other coding has consensus methods
    values = np.asarray(answers.values, np.float64)
    numbers = aggregate_numbers(rows, values, n, "mean" if method == "mean" else "median")
    return lambda row: ItemConsensus(_number(numbers[row]), None, None)


def _label_consensus(
    question: QuestionSpec,
    answers: LabelColumns,
    rows: IntArray,
    n: int,
    method: str,
    gold: Mapping[int, Mapping[str, object]],
) -> Consensus:
    labels, k = codes(answers.labels), len(answers.choices)
    annotators = codes(answers.annotators)
    if method == "dawid-skene" and labels.size:  # with no answers there is nothing to fit
        return dawid_skene(rows, annotators, labels, n_items=n, n_labels=k).consensus
    if method == "weighted" and labels.size:
        reference = gold_labels(answers, question.name, gold)
        weights = vote_weights(answers, rows, reference, int(annotators.max()) + 1)
        return weighted_consensus(answers, rows, n, weights)
    return majority_vote(rows, labels, n_items=n, n_labels=k)


def _label_entries(answers: LabelColumns, result: Consensus) -> Callable[[int], ItemConsensus]:
    names = [str(choice) for choice in answers.choices]

    def entry(row: int) -> ItemConsensus:
        code = int(result.labels[row])
        answer = answers.choices[code] if code >= 0 else None
        probabilities = dict(zip(names, result.probabilities[row].tolist(), strict=True))
        return ItemConsensus(answer, float(result.confidence[row]), probabilities)

    return entry


def _multi_label_entries(
    answers: MultiLabelColumns, rows: IntArray, n: int
) -> Callable[[int], ItemConsensus]:
    k = len(answers.choices)
    vote = multilabel_vote(rows, codes(answers.selected).reshape(-1, k), n)

    def entry(row: int) -> ItemConsensus:
        share = vote.share[row]
        picked = zip(answers.choices, vote.selected[row].tolist(), strict=True)
        chosen = [label for label, yes in picked if yes]
        # A label's decision is as sure as the side that won it: max(share, 1 - share).
        confidence = float(np.maximum(share, 1.0 - share).min()) if k else 1.0
        shares = dict(zip(answers.choices, share.tolist(), strict=True))
        return ItemConsensus(chosen, confidence, shares)

    return entry


def _ranking_entries(
    answers: RankingColumns, rows: IntArray, n: int
) -> Callable[[int], ItemConsensus]:
    responses = answers.responses
    places = codes(answers.places).reshape(-1, len(responses))
    borda = borda_count(rows, places, n)

    def entry(row: int) -> ItemConsensus:
        firsts = dict(zip(responses, borda.first[row].tolist(), strict=True))
        if borda.tied[row]:
            return ItemConsensus(None, None, firsts)
        order = [responses[j] for j in borda.order[row].tolist()]
        return ItemConsensus(order, float(borda.agreement[row]), firsts)

    return entry


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _settled_items(items: ItemColumns, question: str) -> IntArray:
    found = [code for code, final in items.final_answers.items() if question in final]
    return np.asarray(sorted(found), dtype=np.intp)


def _settled(
    items: ItemColumns, question: QuestionSpec, item_codes: IntArray
) -> dict[int, ItemConsensus]:
    """Adjudicated items, by row: the final answer, certain."""
    labels = [str(choice) for choice in question.kind.categories(question)]
    certain = 1.0 if labels else None  # a number's consensus has no confidence
    settled: dict[int, ItemConsensus] = {}
    for code, final in items.final_answers.items():
        if question.name not in final:
            continue
        answer = final[question.name]
        row = int(np.searchsorted(item_codes, code))
        # A ranking's probabilities are over the best response: its first.
        chosen = answer[:1] if question.kind.coding == "rankings" else answer
        settled[row] = ItemConsensus(answer, certain, _one_hot(labels, chosen))
    return settled


def _one_hot(labels: Sequence[str], answer: Any) -> dict[str, float] | None:
    if not labels:
        return None
    chosen = {str(label) for label in answer} if isinstance(answer, list) else {str(answer)}
    return {label: float(label in chosen) for label in labels}
