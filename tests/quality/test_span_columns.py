"""The quality report's span counts agree with the library's pairwise span F1, per label."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from labelwise.quality import Span, pairwise_span_f1
from labelwise.services.reporting.quality_data import SpanColumns

LABELS = ("PER", "LOC", "ORG")
spans = st.lists(
    st.builds(
        lambda start, width, label: {"start": start, "end": start + width, "label": label},
        st.integers(0, 6),
        st.integers(1, 3),
        st.sampled_from(LABELS),
    ),
    max_size=4,
)


def _f1(marked: dict[str, list[Span]], label: str | None) -> float:
    kept = {a: [s for s in v if label is None or s.label == label] for a, v in marked.items()}
    return pairwise_span_f1({0: kept}, "exact")


@given(st.lists(spans, min_size=2, max_size=4))
def test_exact_counts_match_the_library_overall_and_per_label(
    answers: list[list[dict[str, Any]]],
) -> None:
    columns = SpanColumns(LABELS)
    columns.add_item(0, [(i, value, 0) for i, value in enumerate(answers)])
    marked = {
        f"a{i}": [Span(s["start"], s["end"], s["label"]) for s in value]
        for i, value in enumerate(answers)
    }
    (exact,), (total,) = columns.exact, columns.total
    counts = [(exact, total, None)] + [
        (columns.label_exact[i], columns.label_total[i], label) for i, label in enumerate(LABELS)
    ]
    for matched, spans_total, label in counts:
        expected = _f1(marked, label)
        if spans_total:
            assert math.isclose(matched / spans_total, expected), label
        else:
            assert math.isnan(expected), label


@given(st.lists(spans, min_size=2, max_size=4))
def test_each_annotators_counts_match_the_library_on_their_pairs(
    answers: list[list[dict[str, Any]]],
) -> None:
    columns = SpanColumns(LABELS)
    columns.add_item(0, [(i, value, 0) for i, value in enumerate(answers)])
    marked = [[Span(s["start"], s["end"], s["label"]) for s in value] for value in answers]
    for me, mine in enumerate(marked):
        # The F1 of this annotator's pairs alone, as the library computes it.
        pairs = {other: {0: mine, 1: spans} for other, spans in enumerate(marked) if other != me}
        expected = pairwise_span_f1(pairs, "exact")
        total = columns.annotator_total[me]
        if total:
            assert math.isclose(columns.annotator_exact[me] / total, expected)
        else:
            assert math.isnan(expected)
