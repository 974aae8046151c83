"""Answers against the spec: what fits is normalised, what doesn't names its question."""

import itertools
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelwise.spec import AnswerError, ProjectSpec, parse_spec, validate_answers

TEXT = "Laptop X1 broke; order ORD-123 from Megan"  # 41 characters

SPEC = parse_spec(
    {
        "name": "Every question type",
        "slug": "all-types",
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "responses", "type": "pair"},
            {"name": "channel", "type": "metadata"},
        ],
        "questions": [
            {"name": "team", "type": "single_label", "labels": ["billing", "technical", "other"]},
            {
                "name": "topic",
                "type": "single_label",
                "labels": [{"hardware": ["laptop", "phone"]}, {"software": ["app"]}],
            },
            {
                "name": "flags",
                "type": "multi_label",
                "labels": ["rude", "spam", "legal", "vip"],
                "min_choices": 1,
                "max_choices": 2,
                "required": False,
            },
            {"name": "entities", "type": "spans", "field": "text", "labels": ["PRODUCT", "ORDER"]},
            {
                "name": "strict",
                "type": "spans",
                "field": "text",
                "labels": ["A", "B"],
                "allow_overlap": False,
                "required": False,
            },
            {"name": "urgency", "type": "rating", "min": 1, "max": 5},
            {"name": "score", "type": "number", "min": 0, "max": 1, "required": False},
            {"name": "note", "type": "text", "max_length": 10, "required": False},
            {"name": "better", "type": "preference", "field": "responses", "required": False},
        ],
    }
)

ITEM = {"text": TEXT, "responses": {"a": "x", "b": "y"}, "channel": "email"}

BASE: dict[str, object] = {
    "team": "billing",
    "topic": "hardware/laptop",
    "entities": [],
    "urgency": 3,
}


def refusal(answers: object, spec: ProjectSpec = SPEC, item: Mapping[str, object] = ITEM) -> str:
    with pytest.raises(AnswerError) as caught:
        validate_answers(spec, answers, item)
    assert str(caught.value) == f"{caught.value.question}: {caught.value.message}"
    return str(caught.value)


def refusal_with(**answers: Any) -> str:
    return refusal({**BASE, **answers})


def test_a_full_submission_is_normalised() -> None:
    answers = {
        "team": "other",
        "topic": "software/app",
        "flags": ["vip", "rude"],
        "entities": [
            {"start": 23, "end": 30, "label": "ORDER"},
            {"start": 0, "end": 9, "label": "PRODUCT"},
        ],
        "strict": [{"start": 10, "end": 15, "label": "B"}, {"start": 0, "end": 10, "label": "A"}],
        "urgency": 4.0,
        "score": 0.25,
        "note": "call back",
        "better": "tie",
    }
    result = validate_answers(SPEC, answers, ITEM)
    assert result == {
        "team": "other",
        "topic": "software/app",
        "flags": ["rude", "vip"],  # display order
        "entities": [
            {"start": 0, "end": 9, "label": "PRODUCT"},
            {"start": 23, "end": 30, "label": "ORDER"},
        ],
        "strict": [{"start": 0, "end": 10, "label": "A"}, {"start": 10, "end": 15, "label": "B"}],
        "urgency": 4,
        "score": 0.25,
        "note": "call back",
        "better": "tie",
    }
    assert type(result["urgency"]) is int


def test_unanswered_optional_questions_are_left_out() -> None:
    answers = {**BASE, "flags": None, "note": "  ", "score": None}
    assert validate_answers(SPEC, answers, ITEM) == BASE


def test_no_spans_is_an_answer_even_for_a_required_spans_question() -> None:
    assert validate_answers(SPEC, BASE, ITEM)["entities"] == []
    assert validate_answers(SPEC, {**BASE, "strict": []}, ITEM)["strict"] == []


def test_answer_error_carries_the_question_and_the_message() -> None:
    error = AnswerError("team", "an answer is required")
    assert (error.question, error.message) == ("team", "an answer is required")
    assert str(error) == "team: an answer is required"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["billing"], "answers: must be an object of question name to answer; got a list"),
        (
            {**BASE, "tema": "billing"},
            "tema: unknown question; questions are team, topic, flags, entities, strict, "
            "urgency, score, note, better",
        ),
        ({"topic": "hardware/laptop", "entities": [], "urgency": 3}, "team: an answer is required"),
        ({**BASE, "team": None}, "team: an answer is required"),
        ({**BASE, "team": ""}, "team: an answer is required"),
        ({**BASE, "team": []}, "team: an answer is required"),
        ({**BASE, "entities": None}, "entities: an answer is required"),
    ],
)
def test_submissions_that_are_not_answer_objects_or_miss_required_answers(
    answers: object, expected: str
) -> None:
    assert refusal(answers) == expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # single_label, flat and hierarchical
        ({"team": "bill"}, "team: expected one of billing, technical, other; got 'bill'"),
        ({"team": 1}, "team: expected one of billing, technical, other; got 1"),
        ({"team": ["billing"]}, "team: expected one of billing, technical, other; got a list"),
        (
            {"topic": "hardware"},
            "topic: 'hardware' is a category; pick one of hardware/laptop, hardware/phone",
        ),
        (
            {"topic": "laptop"},
            "topic: expected one of hardware/laptop, hardware/phone, software/app; got 'laptop'",
        ),
        # multi_label
        ({"flags": "rude"}, "flags: expected a list of labels; got 'rude'"),
        (
            {"flags": ["rude", "nice"]},
            "flags: 'nice' is not a label; expected labels from rude, spam, legal, vip",
        ),
        (
            {"flags": [{"x": 1}]},
            "flags: a mapping is not a label; expected labels from rude, spam, legal, vip",
        ),
        ({"flags": ["rude", "rude"]}, "flags: duplicate label 'rude'"),
        ({"flags": ["rude", "spam", "vip"]}, "flags: choose at most 2 labels; got 3"),
        # spans
        ({"entities": "Laptop"}, "entities: expected a list of spans; got 'Laptop'"),
        (
            {"entities": [{"start": 0, "end": 6}]},
            'entities: span 0: expected {"start": int, "end": int, "label": str}; '
            "got keys end, start",
        ),
        (
            {"entities": [{"start": 0, "end": 6, "label": "PRODUCT", "text": "Laptop"}]},
            'entities: span 0: expected {"start": int, "end": int, "label": str}; '
            "got keys end, label, start, text",
        ),
        (
            {"entities": ["0-6"]},
            'entities: span 0: expected {"start": int, "end": int, "label": str}; got \'0-6\'',
        ),
        (
            {
                "entities": [
                    {"start": 0, "end": 6, "label": "PRODUCT"},
                    {"start": 5, "end": 42, "label": "ORDER"},
                ]
            },
            "entities: span 1: expected integers 0 <= start < end <= 41 (the length of 'text'); "
            "got start 5, end 42",
        ),
        (
            {"entities": [{"start": 6, "end": 6, "label": "PRODUCT"}]},
            "entities: span 0: expected integers 0 <= start < end <= 41 (the length of 'text'); "
            "got start 6, end 6",
        ),
        (
            {"entities": [{"start": -1, "end": 6, "label": "PRODUCT"}]},
            "entities: span 0: expected integers 0 <= start < end <= 41 (the length of 'text'); "
            "got start -1, end 6",
        ),
        (
            {"entities": [{"start": 0.0, "end": 6, "label": "PRODUCT"}]},
            "entities: span 0: expected integers 0 <= start < end <= 41 (the length of 'text'); "
            "got start 0.0, end 6",
        ),
        (
            {"entities": [{"start": False, "end": 6, "label": "PRODUCT"}]},
            "entities: span 0: expected integers 0 <= start < end <= 41 (the length of 'text'); "
            "got start false, end 6",
        ),
        (
            {"entities": [{"start": 0, "end": 6, "label": "PERSON"}]},
            "entities: span 0: 'PERSON' is not one of PRODUCT, ORDER",
        ),
        (
            {"entities": [{"start": 0, "end": 6, "label": "ORDER"}] * 2},
            "entities: span 1 repeats span 0",
        ),
        (
            {
                "strict": [
                    {"start": 5, "end": 12, "label": "A"},
                    {"start": 20, "end": 25, "label": "A"},
                    {"start": 0, "end": 30, "label": "B"},
                ]
            },
            "strict: span 0 overlaps span 2; this question allows no overlap",
        ),
        # rating
        ({"urgency": 6}, "urgency: expected an integer from 1 to 5; got 6"),
        ({"urgency": 0}, "urgency: expected an integer from 1 to 5; got 0"),
        ({"urgency": 2.5}, "urgency: expected an integer from 1 to 5; got 2.5"),
        ({"urgency": True}, "urgency: expected an integer from 1 to 5; got true"),
        ({"urgency": "3"}, "urgency: expected an integer from 1 to 5; got '3'"),
        # number
        ({"score": 1.5}, "score: expected a number from 0 to 1; got 1.5"),
        ({"score": -0.1}, "score: expected a number from 0 to 1; got -0.1"),
        ({"score": True}, "score: expected a number from 0 to 1; got true"),
        ({"score": math.nan}, "score: expected a number from 0 to 1; got nan"),
        ({"score": "0.5"}, "score: expected a number from 0 to 1; got '0.5'"),
        # text
        ({"note": 5}, "note: expected a string; got 5"),
        ({"note": "far too long"}, "note: must be at most 10 characters; got 12"),
        # preference
        ({"better": "A"}, "better: expected 'a', 'b' or 'tie'; got 'A'"),
        ({"better": ["a"]}, "better: expected 'a', 'b' or 'tie'; got a list"),
    ],
)
def test_an_answer_that_does_not_fit_names_its_question_and_what_was_expected(
    answers: dict[str, object], expected: str
) -> None:
    assert refusal_with(**answers) == expected


def test_too_few_choices_is_refused() -> None:
    spec = parse_spec(
        {
            "name": "n",
            "slug": "n",
            "fields": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "tags", "type": "multi_label", "labels": ["a", "b", "c"], "min_choices": 2}
            ],
        }
    )
    assert refusal({"tags": ["a"]}, spec) == "tags: choose at least 2 labels; got 1"
    assert validate_answers(spec, {"tags": ["c", "a"]}, {}) == {"tags": ["a", "c"]}


def test_spans_need_the_text_they_point_into() -> None:
    assert (
        refusal(BASE, item={"channel": "email"}) == "entities: the item has no text in field 'text'"
    )


def test_adjacent_spans_do_not_overlap() -> None:
    strict = [{"start": 0, "end": 5, "label": "A"}, {"start": 5, "end": 9, "label": "A"}]
    assert validate_answers(SPEC, {**BASE, "strict": strict}, ITEM)["strict"] == strict


def test_number_ranges_that_are_open_on_one_side() -> None:
    spec = parse_spec(
        {
            "name": "n",
            "slug": "n",
            "fields": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "low", "type": "number", "min": 0, "required": False},
                {"name": "high", "type": "number", "max": 10, "required": False},
                {"name": "free", "type": "number", "required": False},
            ],
        }
    )
    assert refusal({"low": -1}, spec) == "low: expected a number of at least 0; got -1"
    assert refusal({"high": 11}, spec) == "high: expected a number of at most 10; got 11"
    assert refusal({"free": math.inf}, spec) == "free: expected a finite number; got inf"
    answers = {"low": 1e9, "high": -1e9, "free": 7}
    assert validate_answers(spec, answers, {}) == answers


def test_a_long_list_of_choices_is_cut_short_in_the_message() -> None:
    spec = parse_spec(
        {
            "name": "n",
            "slug": "n",
            "fields": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "code", "type": "single_label", "labels": [f"c{i}" for i in range(30)]}
            ],
        }
    )
    assert refusal({"code": "x"}, spec) == (
        "code: expected one of c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, ... (20 more); got 'x'"
    )


# --- properties --------------------------------------------------------------------------------


@given(
    st.sampled_from(SPEC.question("team").choices), st.sampled_from(SPEC.question("topic").choices)
)
def test_any_choice_is_a_valid_single_label_answer(team: str, topic: str) -> None:
    result = validate_answers(SPEC, {**BASE, "team": team, "topic": topic}, ITEM)
    assert (result["team"], result["topic"]) == (team, topic)


@given(st.text(max_size=12))
def test_any_other_string_is_refused_for_a_single_label(label: str) -> None:
    if label.strip() and label not in SPEC.question("team").choices:
        with pytest.raises(AnswerError, match=r"^team: expected one of"):
            validate_answers(SPEC, {**BASE, "team": label}, ITEM)


spans = st.builds(
    lambda start, length, label: {"start": start, "end": start + length, "label": label},
    st.integers(0, len(TEXT) - 1),
    st.integers(1, len(TEXT)),
    st.sampled_from(["PRODUCT", "ORDER"]),
).filter(lambda span: span["end"] <= len(TEXT))


@given(st.lists(spans, max_size=8, unique_by=lambda s: (s["start"], s["end"], s["label"])))
def test_any_spans_within_the_text_validate_and_come_back_sorted(given_spans: list[Any]) -> None:
    result = validate_answers(SPEC, {**BASE, "entities": given_spans}, ITEM)["entities"]
    assert isinstance(result, list)
    assert sorted(result, key=lambda s: (s["start"], s["end"], s["label"])) == result
    assert len(result) == len(given_spans)
    assert all(span in given_spans for span in result)


@given(st.lists(st.integers(0, len(TEXT)), min_size=2, max_size=10, unique=True))
def test_back_to_back_spans_never_overlap(cuts: list[int]) -> None:
    cuts.sort()
    strict = [{"start": a, "end": b, "label": "A"} for a, b in itertools.pairwise(cuts)]
    assert validate_answers(SPEC, {**BASE, "strict": strict}, ITEM)["strict"] == strict


@given(st.integers(-10, 10))
def test_a_rating_is_accepted_exactly_within_its_range(value: int) -> None:
    if 1 <= value <= 5:
        assert validate_answers(SPEC, {**BASE, "urgency": value}, ITEM)["urgency"] == value
    else:
        with pytest.raises(AnswerError, match=r"^urgency: expected an integer from 1 to 5"):
            validate_answers(SPEC, {**BASE, "urgency": value}, ITEM)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_number_is_accepted_exactly_when_finite_and_within_its_range(value: float) -> None:
    if 0 <= value <= 1:
        assert validate_answers(SPEC, {**BASE, "score": value}, ITEM)["score"] == value
    else:
        with pytest.raises(AnswerError, match=r"^score: expected a number from 0 to 1"):
            validate_answers(SPEC, {**BASE, "score": value}, ITEM)
