"""The question-type registry: the table, the spec's literal, the modules and the docs agree;
each type module's rules on small hand-computed cases."""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any, get_args

import pytest

from labelwise.formats import hfdataset, release_table
from labelwise.services.reporting.consensus import consensus_of
from labelwise.services.reporting.quality_data import ItemColumns, ProjectColumns, collector_for
from labelwise.services.reporting.question_quality import Context, question_report, version_rows
from labelwise.spec import (
    QUESTION_TYPES,
    AnswerError,
    ProjectSpec,
    QuestionKind,
    QuestionSpec,
    QuestionType,
    page_layout,
    parse_spec,
    question_type,
)
from labelwise.spec.questions import (
    multi_label,
    number,
    preference,
    ranking,
    rating,
    single_label,
    spans,
    text,
)
from labelwise.spec.questions._kind import identical_majority

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "labelwise" / "spec" / "questions"
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text()
README = (ROOT / "README.md").read_text()

# A value for each key a type may require, to build a minimal question of any type.
_REQUIRED_VALUES: dict[str, Any] = {
    "labels": ["a", "b"],
    "min": 1,
    "max": 5,
    "responses": ["body", "other"],
}
_FIELD_OF_TYPE = {"text": "body", "markdown": "body", "pair": "responses"}


def _minimal_spec(kind: QuestionKind) -> ProjectSpec:
    question: dict[str, Any] = {"name": "q", "type": kind.name}
    for key in kind.required:
        if key == "field":
            question[key] = _FIELD_OF_TYPE[kind.field_types[0]]
        else:
            question[key] = _REQUIRED_VALUES[key]
    fields = [
        {"name": "body", "type": "text"},
        {"name": "other", "type": "text"},
        {"name": "responses", "type": "pair"},
    ]
    return parse_spec({"name": "T", "slug": "t", "fields": fields, "questions": [question]})


# --- the registry against the spec, the modules and the docs -----------------------------


def test_the_registry_is_the_specs_question_type_literal_in_order() -> None:
    assert tuple(QUESTION_TYPES) == get_args(QuestionType)
    assert all(kind.name == name for name, kind in QUESTION_TYPES.items())


def test_every_type_module_is_registered_and_every_row_has_its_module() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py") if not path.stem.startswith("_")}
    assert modules == set(QUESTION_TYPES)


def test_every_type_is_documented_in_contributing_and_the_readme() -> None:
    for name in QUESTION_TYPES:
        assert f"| `{name}` | `{name}.py` |" in CONTRIBUTING
        assert f"`{name}`" in README


@pytest.mark.parametrize("name", list(QUESTION_TYPES))
def test_the_spec_accepts_each_type_from_its_required_keys(name: str) -> None:
    kind = question_type(name)
    question = _minimal_spec(kind).question("q")
    assert question.kind is kind


@pytest.mark.parametrize("name", list(QUESTION_TYPES))
def test_each_type_is_refused_a_key_it_does_not_take(name: str) -> None:
    kind = question_type(name)
    spec = _minimal_spec(kind).canonical()
    foreign = "max_length" if "max_length" not in kind.keys else "labels"
    spec["questions"][0][foreign] = 3 if foreign == "max_length" else ["x"]
    with pytest.raises(ValueError, match=rf"questions\[0\]\.{foreign}: not allowed for a {name}"):
        parse_spec(spec)


def test_an_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="types are single_label, multi_label, spans"):
        question_type("likert")


@pytest.mark.parametrize("kind", QUESTION_TYPES.values(), ids=list(QUESTION_TYPES))
def test_each_kind_speaks_the_vocabularies_the_layers_read(kind: QuestionKind) -> None:
    question = _minimal_spec(kind).question("q")
    assert collector_for(question) is not None
    assert release_table.answer_type(question) is not None
    assert hfdataset._answer_kind(question) is not None
    assert kind.level is not None or kind.coding in ("label_sets", "spans", "rankings", "none")
    assert set(kind.consensus) <= {
        "majority",
        "dawid-skene",
        "weighted",
        "median",
        "mean",
        "borda",
    }
    assert page_layout(_minimal_spec(kind))["q"]["widget"] in {
        "options",
        "taxonomy",
        "number",
        "text",
        "spans",
        "ranking",
    }


# --- each type's answer check ------------------------------------------------------------

SPEC = parse_spec(
    {
        "name": "Types",
        "slug": "types",
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "pair", "type": "pair"},
            {"name": "one", "type": "text", "title": "First"},
            {"name": "two", "type": "markdown"},
            {"name": "three", "type": "chat"},
        ],
        "questions": [
            {"name": "team", "type": "single_label", "labels": ["billing", "other"]},
            {"name": "topic", "type": "single_label", "labels": [{"hw": ["laptop", "phone"]}]},
            {"name": "tags", "type": "multi_label", "labels": ["x", "y", "z"], "max_choices": 2},
            {"name": "ents", "type": "spans", "field": "text", "labels": ["P", "Q"]},
            {"name": "flat", "type": "spans", "field": "text", "labels": ["P"]},
            {"name": "urgency", "type": "rating", "min": 1, "max": 5},
            {"name": "wide", "type": "rating", "min": 0, "max": 20},
            {"name": "price", "type": "number", "min": 0},
            {"name": "note", "type": "text", "max_length": 5},
            {"name": "better", "type": "preference", "field": "pair"},
            {"name": "order", "type": "ranking", "responses": ["one", "two", "three"]},
        ],
    }
)
ITEM = {"text": "0123456789", "pair": {"a": "one", "b": "two"}}


def _q(name: str) -> QuestionSpec:
    return SPEC.question(name)


def _refused(check: Any, name: str, value: object, message: str) -> None:
    with pytest.raises(AnswerError) as caught:
        check(_q(name), value, ITEM)
    assert caught.value.question == name and caught.value.message == message


def test_single_label() -> None:
    assert single_label.validate(_q("team"), "other", ITEM) == "other"
    assert single_label.validate(_q("topic"), "hw/phone", ITEM) == "hw/phone"
    _refused(
        single_label.validate, "topic", "hw", "'hw' is a category; pick one of hw/laptop, hw/phone"
    )
    _refused(single_label.validate, "team", 1, "expected one of billing, other; got 1")


def test_multi_label_sorts_into_display_order() -> None:
    assert multi_label.validate(_q("tags"), ["z", "x"], ITEM) == ["x", "z"]
    _refused(multi_label.validate, "tags", ["x", "x"], "duplicate label 'x'")
    _refused(multi_label.validate, "tags", ["x", "y", "z"], "choose at most 2 labels; got 3")
    _refused(multi_label.validate, "tags", "x", "expected a list of labels; got 'x'")


def test_spans_sort_and_refuse_repeats_and_overlaps() -> None:
    marked = [{"start": 4, "end": 6, "label": "Q"}, {"label": "P", "end": 3, "start": 0}]
    assert spans.validate(_q("ents"), marked, ITEM) == [
        {"start": 0, "end": 3, "label": "P"},
        {"start": 4, "end": 6, "label": "Q"},
    ]
    twice = [{"start": 0, "end": 2, "label": "P"}] * 2
    _refused(spans.validate, "ents", twice, "span 1 repeats span 0")
    overlapping = [{"start": 0, "end": 4, "label": "P"}, {"start": 2, "end": 6, "label": "P"}]
    assert len(spans.validate(_q("ents"), overlapping, ITEM)) == 2  # overlap allowed by default
    long = [{"start": 8, "end": 11, "label": "P"}]
    message = "span 0: expected integers 0 <= start < end <= 10 (the length of 'text'); "
    _refused(spans.validate, "ents", long, message + "got start 8, end 11")


def test_rating_takes_whole_floats_and_stays_on_the_scale() -> None:
    assert rating.validate(_q("urgency"), 3.0, ITEM) == 3
    _refused(rating.validate, "urgency", 6, "expected an integer from 1 to 5; got 6")
    _refused(rating.validate, "urgency", 2.5, "expected an integer from 1 to 5; got 2.5")


def test_number_and_text_and_preference() -> None:
    assert number.validate(_q("price"), 2.5, ITEM) == 2.5
    _refused(number.validate, "price", -1, "expected a number of at least 0; got -1")
    _refused(number.validate, "price", True, "expected a number of at least 0; got true")
    assert text.validate(_q("note"), "hi", ITEM) == "hi"
    _refused(text.validate, "note", "toolong", "must be at most 5 characters; got 7")
    assert preference.validate(_q("better"), "tie", ITEM) == "tie"
    _refused(preference.validate, "better", "c", "expected 'a', 'b' or 'tie'; got 'c'")


def test_ranking_takes_every_response_once_in_any_order() -> None:
    assert ranking.validate(_q("order"), ["three", "one", "two"], ITEM) == ["three", "one", "two"]
    _refused(
        ranking.validate, "order", ["one", "two"], "'three' is not ranked; rank every response"
    )
    _refused(
        ranking.validate,
        "order",
        ["one", "one", "two"],
        "'one' is ranked twice; rank each response once",
    )
    _refused(
        ranking.validate,
        "order",
        ["one", "two", "four"],
        "'four' is not a response; responses are one, two, three",
    )
    _refused(
        ranking.validate,
        "order",
        {"one": 1},
        "expected a list of the responses best first (one, two, three); got a mapping",
    )


# --- each type's release majority, categories, card and layout ----------------------------


def test_spans_majority_keeps_the_spans_most_annotators_marked() -> None:
    p, q = {"start": 0, "end": 2, "label": "P"}, {"start": 3, "end": 5, "label": "Q"}
    # P by 3 of 4 (a majority), Q by 2 of 4 (half is no majority).
    assert spans.majority([[p, q], [p], [p, q], []]) == [p]
    assert spans.KIND.majority is spans.majority


def test_identical_majority_needs_more_than_half() -> None:
    assert identical_majority(["ok", "ok", "no"]) == "ok"
    assert identical_majority(["ok", "no"]) is None
    assert text.KIND.majority is identical_majority


def test_categories_are_what_answers_are_counted_over() -> None:
    assert single_label.KIND.categories(_q("topic")) == ("hw/laptop", "hw/phone")
    assert rating.KIND.categories(_q("urgency")) == (1, 2, 3, 4, 5)
    assert preference.KIND.categories(_q("better")) == ("a", "b", "tie")
    assert number.KIND.categories(_q("price")) == ()
    assert release_table.soft_labels(_q("urgency")) == ("1", "2", "3", "4", "5")
    assert release_table.soft_labels(_q("ents")) == ()  # spans have no consensus
    assert ranking.KIND.categories(_q("order")) == ("one", "two", "three")
    assert release_table.soft_labels(_q("order")) == ("one", "two", "three")


def test_describe_for_the_dataset_card() -> None:
    described = {q.name: q.kind.describe(q) for q in SPEC.questions}
    assert described["team"] == "billing, other"
    assert described["urgency"] == "1 to 5"
    assert described["price"] == "0 to any"
    assert described["note"] == "text"
    assert described["better"] == "preference"
    assert described["order"] == "ranking of one, two, three, best first"


def test_page_layout_gives_each_widget_and_the_number_keys_question() -> None:
    layout = page_layout(SPEC)
    assert layout["team"]["keys"] and not any(v["keys"] for k, v in layout.items() if k != "team")
    assert layout["topic"]["widget"] == "taxonomy"
    assert layout["topic"]["options"] == [["hw/laptop", "laptop"], ["hw/phone", "phone"]]
    assert layout["tags"] | {"options": None} == {
        "widget": "options",
        "options": None,
        "multiple": True,
        "choices": ["x", "y", "z"],
        "hierarchical": False,
        "keys": False,
    }
    assert layout["urgency"]["options"] == [[v, str(v)] for v in range(1, 6)]
    assert layout["wide"] == {"widget": "number", "integer": True, "keys": False}
    assert layout["note"] == {"widget": "text", "long": False, "keys": False}
    assert layout["ents"] == {"widget": "spans", "choices": ["P", "Q"], "keys": False}
    assert layout["order"] == {
        "widget": "ranking",
        "responses": ["one", "two", "three"],
        "keys": False,
    }


def test_a_preference_takes_the_number_keys_without_a_single_label_question() -> None:
    questions = [q.canonical() for q in SPEC.questions if q.type != "single_label"]
    spec = parse_spec({**SPEC.canonical(), "questions": questions})
    assert [name for name, v in page_layout(spec).items() if v["keys"]] == ["better"]


def test_a_ranking_takes_the_number_keys_without_a_label_or_preference_question() -> None:
    kept = [q.canonical() for q in SPEC.questions if q.type not in ("single_label", "preference")]
    spec = parse_spec({**SPEC.canonical(), "questions": kept})
    assert [name for name, v in page_layout(spec).items() if v["keys"]] == ["order"]


# --- consensus per type, on hand-coded columns ---------------------------------------------


def _consensus(name: str, method: str, answers: list[list[Any]]) -> list[Any]:
    """The consensus answer of each item; `answers[i]`: item i's answers, one per annotator."""
    question = _q(name)
    columns = collector_for(question)
    for item, given in enumerate(answers):
        columns.add_item(item, [(annotator, value, 1) for annotator, value in enumerate(given)])
    items = ItemColumns(ids=array("q", range(100, 100 + len(answers))))
    table = consensus_of(ProjectColumns(items, {name: columns}), question, method)
    return [table[100 + item].answer for item in range(len(answers))]


def test_consensus_of_labels_ties_stay_open() -> None:
    answers = [["billing", "billing", "other"], ["billing", "other"]]
    assert _consensus("team", "majority", answers) == ["billing", None]


def test_consensus_of_a_rating_and_a_preference() -> None:
    assert _consensus("urgency", "majority", [[4, 4, 2]]) == [4]
    assert _consensus("better", "majority", [["a", "b", "b"]]) == ["b"]


def test_consensus_of_label_sets_takes_each_label_by_strict_majority() -> None:
    answers = [[["x", "y"], ["x"], ["x", "z"]]]
    assert _consensus("tags", "majority", answers) == [["x"]]


def test_consensus_of_numbers_by_median_and_mean() -> None:
    assert _consensus("price", "median", [[1.0, 2.0, 9.0]]) == [2.0]
    assert _consensus("price", "mean", [[1.0, 2.0, 9.0]]) == [4.0]


def test_consensus_of_rankings_is_the_borda_count_and_ties_stay_open() -> None:
    one, two, three = "one", "two", "three"
    answers = [
        [[one, two, three], [two, one, three], [one, three, two]],  # one 5, two 3, three 1
        [[one, two, three], [three, two, one]],  # 2, 2, 2: a tie
    ]
    assert _consensus("order", "borda", answers) == [[one, two, three], None]


def test_a_ranking_that_no_longer_fits_is_left_out_of_the_figures() -> None:
    columns = collector_for(_q("order"))
    columns.add_item(0, [(0, ["one", "two", "three"], 1), (1, ["one", "two"], 1), (2, "one", 1)])
    assert (len(columns.items), columns.unmatched) == (1, 2)


def test_ranking_agreement_per_guideline_version_pairs_rankings_within_one() -> None:
    question = _q("order")
    columns = collector_for(question)
    ranked, reversed_ = ["one", "two", "three"], ["three", "two", "one"]
    columns.add_item(0, [(0, ranked, 1), (1, ranked, 1), (2, reversed_, 2)])
    rows = version_rows(question, columns)
    assert [(r.version, r.annotations, r.agreement) for r in rows] == [(1, 2, 1.0), (2, 1, None)]


def test_rankings_nobody_else_made_have_no_agreement_but_still_count() -> None:
    question = _q("order")
    columns = collector_for(question)
    columns.add_item(0, [(0, ["one", "two", "three"], 1)])
    columns.add_item(1, [(1, ["three", "two", "one"], 1)])
    report = question_report(question, columns, Context({}, ["ana", "ben"], {}))
    assert (report.items, report.annotations) == (2, 2)
    assert report.agreement["kendall_tau"].value is None
    assert [(row.label, row.answers, row.consensus) for row in report.labels] == [
        ("one", 1, 1),
        ("two", 0, 0),
        ("three", 1, 1),
    ]
    assert all(row.agreement == {} for row in report.annotators)
