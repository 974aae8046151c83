"""CoNLL-2003 named-entity text for a release's first spans question; no spaCy needed.

The file starts `-DOCSTART- -X- -X- O` and a blank line; then each item is a block of
`TOKEN -X- -X- TAG` lines followed by a blank line. Tags are IOB2 (B-LABEL, I-LABEL, O),
with any whitespace in a label written as `_`, so the line keeps its four columns.

Tokens are runs of word characters or single other non-space characters (`\\w+|[^\\w\\s]`),
so every token keeps its character offsets in the text. A token a span covers even in part
takes the span's label (spans expand to whole tokens). One token can carry one tag only:
where spans overlap, the earliest-starting one is kept, the longest of those (then the one
first in the answer), and the others are dropped.

Items are written in release order. An item is left out when nothing was settled for the
question (its answer is null: writing it as all O would teach that it has no entities) or
when its text has no tokens. Only the first spans question is written; a project with
several writes the others with the spacy format.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from labelwise.formats.release_table import span_questions
from labelwise.formats.rows import CHUNK_BYTES, ReleaseLayout, ReleaseRow

HEADER = "-DOCSTART- -X- -X- O"
_TOKEN = re.compile(r"\w+|[^\w\s]")
_SPACE = re.compile(r"\s+")

Token = tuple[int, int]  # start and end offsets in the text
Entity = tuple[int, int, str]  # first token, token after the last, label


def tokenize(text: str) -> list[Token]:
    return [match.span() for match in _TOKEN.finditer(text)]


def tag_label(label: str) -> str:
    """A label as it appears in a tag: whitespace would split the line's columns."""
    return _SPACE.sub("_", label)


def token_entities(tokens: Sequence[Token], spans: Iterable[dict[str, Any]]) -> list[Entity]:
    """The spans as token ranges, expanded to whole tokens, overlaps resolved (see above)."""
    starts, ends = [a for a, _ in tokens], [b for _, b in tokens]
    candidates = []
    for order, span in enumerate(spans):
        # The tokens that end after the span starts and start before it ends.
        first = bisect.bisect_right(ends, span["start"])
        last = bisect.bisect_left(starts, span["end"])
        if first < last:
            candidates.append((first, -(last - first), order, last, span["label"]))
    kept: list[Entity] = []
    reach = 0
    for first, _, _, last, label in sorted(candidates):
        if first >= reach:
            kept.append((first, last, label))
            reach = last
    return kept


def iob_tags(count: int, entities: Iterable[Entity]) -> list[str]:
    tags = ["O"] * count
    for first, last, label in entities:
        name = tag_label(label)
        tags[first] = f"B-{name}"
        for i in range(first + 1, last):
            tags[i] = f"I-{name}"
    return tags


def write_release(rows: Iterable[ReleaseRow], layout: ReleaseLayout) -> Iterator[bytes]:
    question = span_questions(layout, "conll")[0]  # refuse now, before any byte is sent
    return _blocks(rows, question.name, question.field or "")


def _blocks(rows: Iterable[ReleaseRow], question: str, field: str) -> Iterator[bytes]:
    out = [HEADER, "\n\n"]
    size = 0
    for row in rows:
        spans, text = row.answers.get(question), row.data.get(field)
        if spans is None or not isinstance(text, str):
            continue
        tokens = tokenize(text)
        if not tokens:
            continue
        tags = iob_tags(len(tokens), token_entities(tokens, spans))
        for (start, end), tag in zip(tokens, tags, strict=True):
            out.append(f"{text[start:end]} -X- -X- {tag}\n")
            size += end - start + len(tag) + 10
        out.append("\n")
        if size >= CHUNK_BYTES:
            yield "".join(out).encode()
            out = []
            size = 0
    yield "".join(out).encode()
