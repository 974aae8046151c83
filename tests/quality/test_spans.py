"""Span agreement (pairwise F1) and the token-level consensus vote."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.quality import Span, pairwise_span_f1, span_f1, vote_spans

A = [Span(0, 5, "PER"), Span(10, 15, "ORG")]
B = [Span(0, 5, "PER"), Span(11, 15, "ORG"), Span(20, 25, "LOC")]


def test_exact_match_by_hand() -> None:
    # One span in common: F1 = 2 * 1 / (2 + 3) = 0.4
    assert span_f1(A, B, "exact") == pytest.approx(0.4)
    assert span_f1(B, A, "exact") == pytest.approx(0.4)


def test_overlap_match_by_hand() -> None:
    # A's PER and ORG are both overlapped (2 of 2); of B's, PER and ORG are (2 of 3):
    # (2 + 2) / (2 + 3) = 0.8
    assert span_f1(A, B, "overlap") == pytest.approx(0.8)


def test_labels_must_agree_and_touching_spans_do_not_overlap() -> None:
    assert span_f1([Span(0, 5, "PER")], [Span(0, 5, "ORG")], "overlap") == 0.0
    assert span_f1([Span(0, 5, "PER")], [Span(5, 9, "PER")], "overlap") == 0.0
    assert np.isnan(span_f1([], []))
    with pytest.raises(ValueError, match="span match"):
        span_f1(A, B, "fuzzy")  # type: ignore[arg-type]


def test_pairwise_micro_average_by_hand() -> None:
    # Item 1: (a, b) 2 matched of 5; (a, c) 0 of 2; (b, c) 0 of 3 -> 2 of 10.
    # Item 2: (a, b) 2 of 2. Overall 4 / 12.
    annotations = {
        "item-1": {"a": A, "b": B, "c": []},
        "item-2": {"a": [Span(0, 3, "X")], "b": [Span(0, 3, "X")]},
    }
    assert pairwise_span_f1(annotations, "exact") == pytest.approx(4 / 12)
    assert np.isnan(pairwise_span_f1({"item": {"a": [], "b": []}}))


# "John Smith works at Acme Corp"
TOKENS = [(0, 4), (5, 10), (11, 16), (17, 19), (20, 24), (25, 29)]


def test_token_vote_by_hand() -> None:
    # John: PER x3. Smith: PER from a and c (2 of 3), continuing their spans.
    # Acme: ORG x3. Corp: ORG from a and b (2 of 3). works, at: nobody.
    annotations = [
        [Span(0, 10, "PER"), Span(20, 29, "ORG")],
        [Span(0, 4, "PER"), Span(20, 29, "ORG")],
        [Span(0, 10, "PER"), Span(20, 24, "ORG")],
    ]
    assert vote_spans(annotations, TOKENS) == [Span(0, 10, "PER"), Span(20, 29, "ORG")]


def test_token_vote_keeps_adjacent_entities_apart() -> None:
    # Two of three annotators start a new span at the second token: two spans, not one.
    tokens = [(0, 1), (2, 3)]
    two = [Span(0, 1, "X"), Span(2, 3, "X")]
    assert vote_spans([two, two, [Span(0, 3, "X")]], tokens) == two


def test_token_vote_needs_a_strict_majority() -> None:
    annotations = [[Span(0, 4, "PER")], [Span(0, 4, "ORG")], [], []]
    assert vote_spans(annotations, TOKENS) == []
    assert vote_spans([[Span(0, 4, "PER")], []], TOKENS) == []
