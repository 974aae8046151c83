"""Span annotations (NER): pairwise F1 agreement and a token-level consensus vote.

Kappa-style coefficients need a fixed set of units, which spans do not have, so span
agreement is the F1 between annotators (Hripcsak and Rothschild 2005), with spans matched
exactly or by overlap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from typing import Literal, NamedTuple

SpanMatch = Literal["exact", "overlap"]
Token = tuple[int, int]


class Span(NamedTuple):
    """Character offsets [start, end) into a text field, with the span's label."""

    start: int
    end: int
    label: str


def span_f1(first: Sequence[Span], second: Sequence[Span], match: SpanMatch = "exact") -> float:
    """F1 between two annotators' spans on one item; NaN when neither marked anything.

    It is the share of all spans, on both sides, that the other side matched: for exact
    matching the usual 2 |A & B| / (|A| + |B|), for overlap its symmetric form.
    """
    matched, total = _pair_counts(first, second, match)
    return matched / total if total else float("nan")


def pairwise_span_f1(
    annotations: Mapping[Hashable, Mapping[Hashable, Sequence[Span]]],
    match: SpanMatch = "exact",
) -> float:
    """Micro-averaged F1 over every pair of annotators on every item: {item: {annotator: spans}}.

    An annotator who marked nothing on an item still counts: their empty answer disagrees with
    every span the others marked. NaN when nobody marked any span.
    """
    matched = total = 0
    for by_annotator in annotations.values():
        for first, second in combinations(by_annotator.values(), 2):
            pair_matched, pair_total = _pair_counts(first, second, match)
            matched += pair_matched
            total += pair_total
    return matched / total if total else float("nan")


def vote_spans(annotations: Sequence[Sequence[Span]], tokens: Sequence[Token]) -> list[Span]:
    """Consensus spans of one item by a token-level vote among its annotators.

    Each token takes the label that a strict majority of annotators gave it (a token is
    inside a span when they overlap), else none. A run of tokens with the same label splits
    into two spans where a majority of those annotators started a new span.
    """
    votes = [_token_tags(spans, tokens) for spans in annotations]
    majority = len(annotations) / 2.0
    consensus: list[Span] = []
    previous: str | None = None
    for index, (start, end) in enumerate(tokens):
        labels = Counter(tag[0] for tags in votes if (tag := tags[index]) is not None)
        label, count = labels.most_common(1)[0] if labels else ("", 0)
        if count <= majority:
            previous = None
            continue
        begins = sum(1 for tags in votes if tags[index] == (label, True))
        if label == previous and begins <= count / 2.0:
            consensus[-1] = consensus[-1]._replace(end=end)
        else:
            consensus.append(Span(start, end, label))
        previous = label
    return consensus


def _pair_counts(
    first: Sequence[Span], second: Sequence[Span], match: SpanMatch
) -> tuple[int, int]:
    """Spans of either side matched by the other side, and spans on both sides.

    Counting both directions makes the pair's F1 = matched / total, the same whichever
    annotator comes first.
    """
    total = len(first) + len(second)
    if match == "exact":
        common = Counter(first) & Counter(second)
        return 2 * sum(common.values()), total
    if match == "overlap":
        return _overlapped(first, second) + _overlapped(second, first), total
    raise ValueError(f"unknown span match {match!r}")


def _overlapped(spans: Sequence[Span], others: Sequence[Span]) -> int:
    return sum(
        1
        for span in spans
        if any(
            other.label == span.label and other.start < span.end and span.start < other.end
            for other in others
        )
    )


def _token_tags(spans: Sequence[Span], tokens: Sequence[Token]) -> list[tuple[str, bool] | None]:
    """Per token, (label, begins a span) for the annotator's span covering it, or None."""
    tags: list[tuple[str, bool] | None] = [None] * len(tokens)
    for span in sorted(spans):
        first = True
        for index, (start, end) in enumerate(tokens):
            if start < span.end and span.start < end and tags[index] is None:
                tags[index] = (span.label, first)
                first = False
    return tags
