"""The guideline-gaps report: which labels people confuse, and whether the guidelines say.

Per single-label question, every pair of labels that two annotators of one item gave, or that
an annotator and the adjudicator's ruling gave, counts as a confusion of that pair. The most
confused pairs come with example items, the section of the current guidelines that names both
labels (or "not covered"), and the agreement on the pair under each guideline version: of the
pairs of answers to one item made under one version where either label was given, the share
that agree. A guideline change that closed the gap shows as a higher share under the new version.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from sqlalchemy import select

from labelwise.db.engine import Database
from labelwise.db.models import Item, Project
from labelwise.services import guidelines
from labelwise.services.projects import spec_of
from labelwise.services.reporting.quality_data import LabelColumns, codes, load
from labelwise.spec import QuestionSpec

EXAMPLES = 3
NOT_COVERED = "not covered"


@dataclass(frozen=True, slots=True)
class VersionAgreement:
    guideline_version: int | None  # None: answers given before any guidelines
    answer_pairs: int
    agreement: float


@dataclass(frozen=True, slots=True)
class LabelGap:
    question: str
    labels: tuple[str, str]
    disagreements: int  # pairs of annotators of one item who gave the two labels
    adjudicated: int  # answers with one label that the adjudicator ruled the other
    examples: list[str]  # external ids (or "#id") of items where they were confused
    guideline_section: str  # the heading of the section naming both labels, or NOT_COVERED
    by_version: list[VersionAgreement]


@dataclass(frozen=True, slots=True)
class GapsReport:
    project: str
    guideline_version: int | None  # the version whose sections were searched
    gaps: list[LabelGap]


@dataclass
class _Pairs:
    disagreements: Counter[tuple[int, int]] = field(default_factory=Counter)
    adjudicated: Counter[tuple[int, int]] = field(default_factory=Counter)
    examples: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))
    # Answer pairs of one item under one version, which give a pair's agreement per version:
    # by (label, version) those with the label at all, and those where both gave it; by
    # (pair, version) those that gave exactly the pair's two labels.
    with_label: Counter[tuple[int, int]] = field(default_factory=Counter)
    both_gave: Counter[tuple[int, int]] = field(default_factory=Counter)
    split: Counter[tuple[tuple[int, int], int]] = field(default_factory=Counter)


def gaps(db: Database, project: Project, limit: int = 10) -> GapsReport:
    """The `limit` most confused label pairs over the project's single-label questions."""
    spec = spec_of(project)
    questions = [q for q in spec.questions if q.type == "single_label"]
    columns = load(db, project.id, spec, questions)
    found: list[tuple[QuestionSpec, tuple[int, int], _Pairs]] = []
    for question in questions:
        answers = columns.answers[question.name]
        assert isinstance(answers, LabelColumns)
        pairs = _confusions(answers, columns.items.final_answers, question.name)
        found.extend((question, pair, pairs) for pair in pairs.disagreements | pairs.adjudicated)
    found.sort(key=lambda f: -(f[2].disagreements[f[1]] + f[2].adjudicated[f[1]]))
    found = found[:limit]
    ids = codes(columns.items.ids)
    wanted = {int(ids[code]) for _, pair, pairs in found for code in pairs.examples[pair]}
    with db.read() as session:
        query = select(Item.id, Item.external_id).where(Item.id.in_(wanted))
        names = {item_id: external_id for item_id, external_id in session.execute(query)}
    version = guidelines.current(db, project.id)
    sections = _sections(version.body if version else "")
    report = [
        _gap(
            question,
            pair,
            pairs,
            sections,
            [_name(names, int(ids[c])) for c in pairs.examples[pair]],
        )
        for question, pair, pairs in found
    ]
    return GapsReport(project.slug, version.number if version else None, report)


def _confusions(
    answers: LabelColumns, final: dict[int, dict[str, object]], question: str
) -> _Pairs:
    items, labels, versions = codes(answers.items), codes(answers.labels), codes(answers.versions)
    order = np.argsort(items, kind="stable")
    items, labels, versions = items[order], labels[order], versions[order]
    pairs = _Pairs()
    if not items.size:
        return pairs
    starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]]).tolist()
    for start, end in zip(starts, [*starts[1:], items.size], strict=True):
        item = int(items[start])
        given = list(zip(labels[start:end].tolist(), versions[start:end].tolist(), strict=True))
        for (a, va), (b, vb) in combinations(given, 2):
            if a != b:
                pair = (min(a, b), max(a, b))
                pairs.disagreements[pair] += 1
                _example(pairs, pair, item)
            if va == vb:
                for label in {a, b}:
                    pairs.with_label[(label, va)] += 1
                if a == b:
                    pairs.both_gave[(a, va)] += 1
                else:
                    pairs.split[((min(a, b), max(a, b)), va)] += 1
        ruled = answers.code(final.get(item, {}).get(question))
        for label, _ in given:
            if ruled is not None and label != ruled:
                pair = (min(label, ruled), max(label, ruled))
                pairs.adjudicated[pair] += 1
                _example(pairs, pair, item)
    return pairs


def _name(names: dict[int, str | None], item_id: int) -> str:
    return names.get(item_id) or f"#{item_id}"


def _example(pairs: _Pairs, pair: tuple[int, int], item: int) -> None:
    shown = pairs.examples[pair]
    if len(shown) < EXAMPLES and item not in shown:
        shown.append(item)


def _gap(
    question: QuestionSpec,
    pair: tuple[int, int],
    pairs: _Pairs,
    sections: list[tuple[str, str]],
    examples: list[str],
) -> LabelGap:
    a, b = (question.choices[code] for code in pair)
    return LabelGap(
        question.name,
        (a, b),
        pairs.disagreements[pair],
        pairs.adjudicated[pair],
        examples,
        _section(sections, a, b),
        _by_version(pairs, pair),
    )


def _by_version(pairs: _Pairs, pair: tuple[int, int]) -> list[VersionAgreement]:
    """Per version, of the answer pairs where either label was given, the share agreeing
    (an answer pair giving both labels is counted once)."""
    x, y = pair
    versions = sorted({v for label, v in pairs.with_label if label in pair})
    rows = []
    for v in versions:
        touched = pairs.with_label[(x, v)] + pairs.with_label[(y, v)] - pairs.split[(pair, v)]
        agreed = pairs.both_gave[(x, v)] + pairs.both_gave[(y, v)]
        rows.append(VersionAgreement(v or None, touched, agreed / touched))
    return rows


def _sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, text) of each section of the guidelines; text before any heading is ''."""
    sections: list[tuple[str, str]] = []
    heading, lines = "", list[str]()
    for line in markdown.splitlines():
        if line.startswith("#"):
            sections.append((heading, "\n".join(lines)))
            heading, lines = line.lstrip("#").strip(), []
        else:
            lines.append(line)
    sections.append((heading, "\n".join(lines)))
    return [(h, f"{h}\n{t}") for h, t in sections if h or t.strip()]


def _section(sections: list[tuple[str, str]], a: str, b: str) -> str:
    """The first section naming both labels (as whole words, any case), else NOT_COVERED."""
    names = [
        re.compile(rf"(?<!\w){re.escape(label.split('/')[-1])}(?!\w)", re.I) for label in (a, b)
    ]
    for heading, text in sections:
        if all(name.search(text) for name in names):
            return heading or "(introduction)"
    return NOT_COVERED
