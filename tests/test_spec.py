"""The project spec: the documented example parses, and every mistake is named by its path."""

import copy
import json
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import labelwise.spec
from labelwise.spec import (
    FieldSpec,
    Label,
    SpecError,
    load_spec_file,
    parse_spec,
)

# The example from PRODUCT.md, "The project spec", verbatim.
EXAMPLE = """\
name: Support ticket triage
slug: tickets                 # URL-safe name; the CLI and API address projects by it
goal: Route tickets to the right team; the router model must reach macro-F1 0.9.
fields:                       # what the labeler sees, taken from each item's data
  - {name: text, type: text}
  - {name: channel, type: metadata}          # shown small; usable as a QC slice
questions:                    # what the labeler answers; several per item are allowed
  - name: team
    type: single_label        # single_label | multi_label | spans | rating | number | text | preference
    labels: [billing, technical, account, other]
  - name: topic
    type: single_label
    labels:                   # hierarchical: the answer is a path, "hardware/laptop"
      - hardware: [laptop, phone]
      - software: [app, website]
  - {name: urgency, type: rating, min: 1, max: 5}
  - {name: entities, type: spans, field: text, labels: [PRODUCT, ORDER_ID, PERSON]}
workflow:
  overlap: 3                  # annotators per item
  lease_minutes: 30
  review: {policy: stratified, rate: 0.1, slice_by: channel, min_per_slice: 20}
  adjudicate: disagreement    # send items whose annotators disagree to adjudication
quality:
  gold_rate: 0.05
  qualification: {items: 10, min_accuracy: 0.8}
  agreement_target: {metric: krippendorff_alpha, min: 0.8}
"""  # noqa: E501 (kept verbatim)

ROOT_KEYS = (
    "name, slug, goal, fields, questions, workflow, quality, privacy, guidelines, guidelines_file, "
    "guidelines_note"
)
SLUG_RULE = "must be 1-63 lowercase letters, digits or '-', starting with a letter or digit"


def example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE)
    assert isinstance(data, dict)
    return data


def errors_after(change: Callable[[dict[str, Any]], object]) -> list[str]:
    """The errors reported for the example spec after `change` edits it in place."""
    data = example()
    change(data)
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    errors: list[str] = caught.value.errors
    return errors


def question(data: dict[str, Any], index: int) -> dict[str, Any]:
    entry = data["questions"][index]
    assert isinstance(entry, dict)
    return entry


# --- the example -------------------------------------------------------------------------------


def test_the_documented_example_parses() -> None:
    spec = parse_spec(example())
    assert (spec.name, spec.slug) == ("Support ticket triage", "tickets")
    assert spec.goal.startswith("Route tickets")
    assert [(f.name, f.type, f.required) for f in spec.fields] == [
        ("text", "text", True),
        ("channel", "metadata", False),
    ]
    assert spec.question("team").choices == ("billing", "technical", "account", "other")
    assert not spec.question("team").is_hierarchical
    topic = spec.question("topic")
    assert topic.is_hierarchical
    assert topic.choices == (
        "hardware/laptop",
        "hardware/phone",
        "software/app",
        "software/website",
    )
    urgency = spec.question("urgency")
    assert (urgency.type, urgency.min, urgency.max) == ("rating", 1, 5)
    entities = spec.question("entities")
    assert (entities.field, entities.allow_overlap) == ("text", True)
    review = spec.workflow.review
    assert (review.policy, review.rate, review.slice_by, review.min_per_slice) == (
        "stratified",
        0.1,
        "channel",
        20,
    )
    assert (spec.workflow.overlap, spec.workflow.adjudicate) == (3, "disagreement")
    assert spec.quality.gold_rate == 0.05
    assert spec.quality.qualification is not None
    assert spec.quality.qualification.items == 10
    assert spec.quality.agreement_target is not None
    assert spec.quality.agreement_target.metric == "krippendorff_alpha"


def test_the_example_loads_from_a_yaml_file_and_the_same_json(tmp_path: Path) -> None:
    (tmp_path / "tickets.yaml").write_text(EXAMPLE)
    (tmp_path / "tickets.json").write_text(json.dumps(example()))
    expected = parse_spec(example())
    assert load_spec_file(tmp_path / "tickets.yaml") == expected
    assert load_spec_file(str(tmp_path / "tickets.json")) == expected


def test_lookups_by_name() -> None:
    spec = parse_spec(example())
    assert spec.field("channel").type == "metadata"
    assert spec.question("urgency").type == "rating"
    with pytest.raises(KeyError, match="no question named 'nope'"):
        spec.question("nope")
    with pytest.raises(KeyError, match="no field named 'body'"):
        spec.field("body")


def test_workflow_and_quality_default_when_left_out() -> None:
    data = example()
    del data["workflow"], data["quality"]
    spec = parse_spec(data)
    assert (spec.workflow.overlap, spec.workflow.lease_minutes) == (1, 30)
    assert (spec.workflow.review.policy, spec.workflow.adjudicate) == ("none", "none")
    assert spec.workflow.max_per_annotator is None
    assert spec.quality.gold_rate == 0
    assert spec.quality.qualification is None


def test_metadata_fields_default_to_optional_and_others_to_required() -> None:
    assert FieldSpec.model_validate({"name": "m", "type": "metadata"}).required is False
    assert FieldSpec.model_validate({"name": "m", "type": "metadata", "required": True}).required
    assert FieldSpec.model_validate({"name": "t", "type": "image"}).required is True


def test_the_spec_is_immutable() -> None:
    spec = parse_spec(example())
    with pytest.raises(ValidationError):
        spec.slug = "other"


def test_the_public_names_are_all_exported() -> None:
    for name in labelwise.spec.__all__:
        assert getattr(labelwise.spec, name) is not None
    assert {"ProjectSpec", "SpecError", "parse_spec", "load_spec_file", "validate_answers"} <= set(
        labelwise.spec.__all__
    )


# --- canonical form ----------------------------------------------------------------------------


def test_canonical_round_trips_and_is_idempotent() -> None:
    spec = parse_spec(example())
    canonical = spec.canonical()
    assert parse_spec(canonical) == spec
    assert parse_spec(canonical).canonical() == canonical
    assert json.loads(json.dumps(canonical)) == canonical


def test_canonical_fills_defaults_and_keeps_only_the_keys_that_apply() -> None:
    canonical = parse_spec(example()).canonical()
    assert canonical["fields"][1] == {
        "name": "channel",
        "type": "metadata",
        "title": None,
        "required": False,
    }
    assert canonical["questions"][2] == {
        "name": "urgency",
        "type": "rating",
        "title": None,
        "required": True,
        "min": 1,
        "max": 5,
    }
    assert canonical["questions"][3]["allow_overlap"] is True
    assert canonical["questions"][1]["labels"] == [
        {"hardware": ["laptop", "phone"]},
        {"software": ["app", "website"]},
    ]
    assert canonical["workflow"]["max_per_annotator"] is None
    assert canonical["guidelines"] is None


def test_canonical_of_a_minimal_spec_equals_that_of_its_explicit_form() -> None:
    minimal = {
        "name": "n",
        "slug": "n",
        "fields": [{"name": "text", "type": "text"}],
        "questions": [{"name": "q", "type": "single_label", "labels": ["a"]}],
    }
    canonical = parse_spec(minimal).canonical()
    assert canonical["workflow"]["review"] == {"policy": "none"}
    assert canonical["quality"] == {
        "gold_rate": 0.0,
        "qualification": None,
        "agreement_target": None,
        "checks": {
            "invalid_answers": True,
            "too_fast": None,
            "straight_lining": None,
            "low_gold_accuracy": None,
            "model_disagreement": None,
            "send_to_review": False,
        },
    }
    assert parse_spec(canonical) == parse_spec(minimal)


def test_model_dump_output_parses_back_too() -> None:
    spec = parse_spec(example())
    assert parse_spec(spec.model_dump()) == spec


# --- one mistake, one exact error ------------------------------------------------------------


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """An edit of the example: set the value at a dotted path such as `questions.2.max`."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        del target[last]

    return change


def _add_question(entry: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["questions"].append(entry)


def _add_field(entry: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["fields"].append(entry)


SINGLE_ERRORS: list[tuple[Callable[[dict[str, Any]], object], str]] = [
    # the project
    (_drop("name"), "name: required"),
    (_set("name", "  "), "name: must not be empty"),
    (_set("name", 7), "name: must be a string; got 7"),
    (_set("slug", "Tickets"), f"slug: {SLUG_RULE}"),
    (_set("slug", "-tickets"), f"slug: {SLUG_RULE}"),
    (_set("slug", "t" * 64), f"slug: {SLUG_RULE}"),
    (_set("colour", "blue"), f"colour: unknown key; expected one of {ROOT_KEYS}"),
    (_set("fields", []), "fields: must not be empty"),
    (_set("questions", "team"), "questions: must be a list; got 'team'"),
    (_set("guidelines", ""), "guidelines: must not be empty"),
    # fields
    (
        _add_field({"name": "2nd", "type": "text"}),
        "fields[2].name: must be letters, digits or '_', not starting with a digit; got '2nd'",
    ),
    (
        _add_field({"name": "text", "type": "markdown"}),
        "fields[2].name: duplicate field name 'text' (see fields[0])",
    ),
    (
        _add_field({"name": "notes", "type": "text", "visible_to": ["owner", "boss"]}),
        "fields[2].visible_to: field 'notes': unknown role 'boss'; "
        "roles are owner, manager, reviewer, annotator, viewer",
    ),
    (
        _add_field({"name": "notes", "type": "text", "visible_to": "owner"}),
        "fields[2].visible_to: field 'notes': must be a list of roles; got 'owner'",
    ),
    (
        _add_field({"name": "notes", "type": "text", "visible_to": []}),
        "fields[2].visible_to: field 'notes': must name a role; "
        "leave visible_to out for every role",
    ),
    (
        _set("fields.0.visible_to", ["owner", "manager", "reviewer"]),
        "questions[3].field: 'text' is hidden from some roles (visible_to); "
        "a question's field must be seen by every role",
    ),
    (
        _set("fields.1.visible_to", ["owner"]),
        "workflow.review.slice_by: 'channel' is hidden from some roles (visible_to); "
        "the review's slice_by must be seen by every role",
    ),
    (
        _add_field({"name": "id", "type": "metadata"}),
        "fields[2].name: 'id' is the item's external id, not part of its data; rename the field",
    ),
    (
        _add_field({"name": "priority", "type": "metadata"}),
        "fields[2].name: 'priority' is the item's place in the queue, not part of its data; "
        "rename the field",
    ),
    (
        _set("fields.1.type", "meta"),
        "fields[1].type: expected one of text, markdown, image, chat, pair, metadata; got 'meta'",
    ),
    (
        _set("fields.0.hidden", True),
        "fields[0].hidden: unknown key; expected one of name, type, title, required, visible_to",
    ),
    (_set("fields.0", "text"), "fields[0]: must be a mapping; got 'text'"),
    # questions in general
    (
        _set("questions.1.type", "choice"),
        "questions[1].type: expected one of single_label, multi_label, spans, rating, number, "
        "text, preference, ranking; got 'choice'",
    ),
    (
        _add_question({"name": "team", "type": "text"}),
        "questions[4].name: duplicate question name 'team' (see questions[0])",
    ),
    (
        _set("questions.0.required", "yes"),
        "questions[0].required: must be true or false; got 'yes'",
    ),
    (
        _set("questions.2.lables", ["a"]),
        "questions[2].lables: unknown key; expected one of name, type, title, required, min, max",
    ),
    (_set("questions.2.labels", ["a"]), "questions[2].labels: not allowed for a rating question"),
    (_set("questions.0.max", 3), "questions[0].max: not allowed for a single_label question"),
    # labels
    (_drop("questions.0.labels"), "questions[0].labels: required for a single_label question"),
    (_set("questions.0.labels", []), "questions[0].labels: must not be empty"),
    (
        _set("questions.0.labels", "billing"),
        "questions[0].labels: must be a list of labels; got 'billing'",
    ),
    (
        _set("questions.0.labels", ["billing", "other", "billing"]),
        "questions[0].labels: duplicate label 'billing'",
    ),
    (
        _set("questions.0.labels", ["billing", "", "other"]),
        "questions[0].labels[1]: must not be empty",
    ),
    (
        _set("questions.0.labels", ["billing", "a/b"]),
        "questions[0].labels[1]: must not contain '/', which separates a parent from its "
        "children; got 'a/b'",
    ),
    (
        _set("questions.0.labels", ["billing ", "other"]),
        "questions[0].labels[0]: must not start or end with spaces; got 'billing '",
    ),
    (
        _set("questions.0.labels", ["maybe", False]),
        "questions[0].labels[1]: must be a string; quote it, as YAML reads yes, no, on, off, "
        "true, false as booleans",
    ),
    (
        _set("questions.0.labels", ["a", 3]),
        "questions[0].labels[1]: must be a string; quote it: '3'",
    ),
    (
        _set("questions.1.labels", [{"hardware": ["laptop"], "software": ["app"]}]),
        "questions[1].labels[0]: a parent label is a mapping with one key, like "
        "{hardware: [laptop, phone]}",
    ),
    (
        _set("questions.1.labels", [{"hardware": []}]),
        "questions[1].labels[0].hardware: must list at least one child label",
    ),
    (
        _set("questions.1.labels", [{"hardware": ["laptop", "laptop"]}]),
        "questions[1].labels[0].hardware: duplicate label 'laptop'",
    ),
    (
        _set("questions.1.labels", ["hardware", {"hardware": ["laptop"]}]),
        "questions[1].labels: duplicate label 'hardware'",
    ),
    (
        _set("questions.1.labels", [{"a": [{"b": [{"c": ["x", ["y"]]}]}]}]),
        "questions[1].labels[0].a[0].b[0].c[1]: must be a label or a parent like "
        "{hardware: [laptop, phone]}; got a list",
    ),
    # rating and number
    (_set("questions.2.max", 1), "questions[2].max: must be greater than min (1)"),
    (_set("questions.2.min", 1.5), "questions[2].min: must be an integer; got 1.5"),
    (_set("questions.2.max", True), "questions[2].max: must be an integer; got true"),
    (_drop("questions.2.max"), "questions[2].max: required for a rating question"),
    (
        _add_question({"name": "score", "type": "number", "min": 2.5, "max": 2.5}),
        "questions[4].max: must be greater than min (2.5)",
    ),
    (
        _add_question({"name": "score", "type": "number", "max": "ten"}),
        "questions[4].max: must be a finite number; got 'ten'",
    ),
    (
        _add_question({"name": "score", "type": "number", "min": float("nan")}),
        "questions[4].min: must be a finite number; got nan",
    ),
    # spans and preference
    (
        _set("questions.3.field", "body"),
        "questions[3].field: no field named 'body'; fields are text, channel",
    ),
    (
        _set("questions.3.field", "channel"),
        "questions[3].field: 'channel' is a metadata field; a spans question needs a text or "
        "markdown field",
    ),
    (_drop("questions.3.field"), "questions[3].field: required for a spans question"),
    (
        _set("questions.3.allow_overlap", "no"),
        "questions[3].allow_overlap: must be true or false; got 'no'",
    ),
    (
        _add_question({"name": "better", "type": "preference", "field": "text"}),
        "questions[4].field: 'text' is a text field; a preference question needs a pair field",
    ),
    # text and multi_label
    (
        _add_question({"name": "note", "type": "text", "max_length": 0}),
        "questions[4].max_length: must be greater than 0; got 0",
    ),
    (
        _add_question(
            {"name": "tags", "type": "multi_label", "labels": ["a", "b"], "min_choices": 0}
        ),
        "questions[4].min_choices: must be at least 1; got 0",
    ),
    (
        _add_question(
            {
                "name": "tags",
                "type": "multi_label",
                "labels": ["a", "b", "c"],
                "min_choices": 2,
                "max_choices": 1,
            }
        ),
        "questions[4].max_choices: must be at least min_choices (2)",
    ),
    (
        _add_question(
            {"name": "tags", "type": "multi_label", "labels": ["a", "b"], "max_choices": 3}
        ),
        "questions[4].max_choices: must be at most the number of choices (2)",
    ),
    # workflow
    (
        _set("workflow.overlpa", 2),
        "workflow.overlpa: unknown key; expected one of overlap, lease_minutes, review, "
        "adjudicate, max_per_annotator, order, retrain_every, prelabels, model_backend",
    ),
    (_set("workflow.overlap", "3"), "workflow.overlap: must be an integer; got '3'"),
    (
        _set("workflow.overlap", 1),
        "workflow.adjudicate: 'disagreement' needs an overlap of at least 2; overlap is 1",
    ),
    (_set("workflow.lease_minutes", 0), "workflow.lease_minutes: must be at least 1; got 0"),
    (
        _set("workflow.max_per_annotator", 0),
        "workflow.max_per_annotator: must be at least 1; got 0",
    ),
    (
        _set("workflow.adjudicate", "always"),
        "workflow.adjudicate: expected one of none, disagreement; got 'always'",
    ),
    (_set("workflow.review.rate", 0), "workflow.review.rate: must be greater than 0; got 0"),
    (_set("workflow.review.rate", 1.5), "workflow.review.rate: must be at most 1; got 1.5"),
    (
        _drop("workflow.review.rate"),
        "workflow.review.rate: required for the 'stratified' review policy",
    ),
    (
        _drop("workflow.review.slice_by"),
        "workflow.review.slice_by: required for the 'stratified' review policy",
    ),
    (
        _set("workflow.review.slice_by", "source"),
        "workflow.review.slice_by: no field named 'source'; fields are text, channel",
    ),
    (
        _set("workflow.review", {"policy": "all", "rate": 0.5}),
        "workflow.review.rate: not allowed for the 'all' review policy",
    ),
    (
        _set("workflow.review", {"policy": "random", "rate": 0.5, "slice_by": "channel"}),
        "workflow.review.slice_by: not allowed for the 'random' review policy",
    ),
    (
        _set("workflow.review", {"policy": "sometimes"}),
        "workflow.review.policy: expected one of none, all, random, stratified; got 'sometimes'",
    ),
    # quality
    (_set("quality.gold_rate", 1), "quality.gold_rate: must be less than 1; got 1"),
    (_set("quality.gold_rate", -0.1), "quality.gold_rate: must be at least 0; got -0.1"),
    (
        _set("quality.gold_rate", float("inf")),
        "quality.gold_rate: must be a finite number; got inf",
    ),
    (
        _set("quality.qualification.items", 0),
        "quality.qualification.items: must be at least 1; got 0",
    ),
    (_drop("quality.qualification.min_accuracy"), "quality.qualification.min_accuracy: required"),
    (
        _set("quality.agreement_target.metric", "accuracy"),
        "quality.agreement_target.metric: expected one of krippendorff_alpha, fleiss_kappa, "
        "cohen_kappa, kendall_tau; got 'accuracy'",
    ),
    (
        _set("quality.agreement_target.min", -2),
        "quality.agreement_target.min: must be at least -1; got -2",
    ),
]


@pytest.mark.parametrize(("change", "expected"), SINGLE_ERRORS, ids=[e for _, e in SINGLE_ERRORS])
def test_one_mistake_gives_exactly_one_error_with_its_path(
    change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    assert errors_after(change) == [expected]


def test_every_mistake_is_reported_at_once_in_document_order() -> None:
    def change(data: dict[str, Any]) -> None:
        data["slug"] = "Tickets!"
        question(data, 0)["labels"] = ["billing", "billing"]
        question(data, 1)["type"] = "choice"
        question(data, 2)["max"] = 1
        question(data, 3)["field"] = "body"
        data["workflow"]["overlpa"] = 2
        data["quality"]["gold_rate"] = 2

    assert errors_after(change) == [
        f"slug: {SLUG_RULE}",
        "questions[0].labels: duplicate label 'billing'",
        "questions[1].type: expected one of single_label, multi_label, spans, rating, number, "
        "text, preference, ranking; got 'choice'",
        "questions[2].max: must be greater than min (1)",
        "questions[3].field: no field named 'body'; fields are text, channel",
        "workflow.overlpa: unknown key; expected one of overlap, lease_minutes, review, "
        "adjudicate, max_per_annotator, order, retrain_every, prelabels, model_backend",
        "quality.gold_rate: must be less than 1; got 2",
    ]


def test_a_bad_field_hides_no_other_problem_in_the_same_question() -> None:
    def change(data: dict[str, Any]) -> None:
        question(data, 2).update(title=5, max=0, labels=["x"])

    assert errors_after(change) == [
        "questions[2].title: must be a string; got 5",
        "questions[2].labels: not allowed for a rating question",
        "questions[2].max: must be greater than min (1)",
    ]


def test_spec_error_is_a_value_error_listing_one_error_per_line() -> None:
    error = SpecError(["a: one", "b: two"])
    assert error.errors == ["a: one", "b: two"]
    assert str(error) == "a: one\nb: two"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "spec: must be a mapping; got a list"),
        (None, "spec: must be a mapping; got null"),
        ("name: x", "spec: must be a mapping; got 'name: x'"),
    ],
)
def test_a_spec_that_is_not_a_mapping_is_refused(data: object, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    assert caught.value.errors == [expected]


def test_an_empty_mapping_lists_every_required_key() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec({})
    assert caught.value.errors == [
        "name: required",
        "slug: required",
        "fields: required",
        "questions: required",
    ]


def test_leaf_names_may_repeat_under_different_parents() -> None:
    data = example()
    question(data, 1)["labels"] = [{"hardware": ["other"]}, {"software": ["other"]}]
    assert parse_spec(data).question("topic").choices == ("hardware/other", "software/other")


def test_number_and_text_questions_take_their_optional_settings() -> None:
    data = example()
    data["fields"].append({"name": "responses", "type": "pair"})
    data["questions"] += [
        {"name": "score", "type": "number", "min": -1, "max": 0.5},
        {"name": "open", "type": "number"},
        {"name": "note", "type": "text", "max_length": 200, "required": False},
        {"name": "better", "type": "preference", "field": "responses"},
        {"name": "tags", "type": "multi_label", "labels": ["a", "b"], "min_choices": 1},
    ]
    spec = parse_spec(data)
    assert (spec.question("score").min, spec.question("score").max) == (-1, 0.5)
    assert spec.question("open").min is None
    assert spec.question("note").max_length == 200
    assert spec.question("better").field == "responses"
    assert spec.question("tags").min_choices == 1
    assert parse_spec(spec.canonical()) == spec


# --- files -------------------------------------------------------------------------------------


def _load_errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    errors: list[str] = caught.value.errors
    return errors


def test_file_errors_are_prefixed_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "tickets.yaml"
    path.write_text(EXAMPLE.replace("min: 1, max: 5", "min: 1, max: 1"))
    assert _load_errors(path) == [f"{path}: questions[2].max: must be greater than min (1)"]


def test_a_yaml_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "tickets.yaml"
    path.write_text("name: x\nslug: x\nfields:\n  - {name: text, type: text\nquestions: []\n")
    assert _load_errors(path) == [
        f"{path}: line 5, column 10: expected ',' or '}}', but got ':' "
        "(while parsing a flow mapping at line 4, column 5)"
    ]


def test_a_key_given_twice_in_yaml_is_refused_rather_than_silently_overwritten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tickets.yaml"
    path.write_text(EXAMPLE.replace("  lease_minutes: 30\n", "  lease_minutes: 30\n  overlap: 1\n"))
    assert _load_errors(path) == [f"{path}: line 21, column 3: duplicate key 'overlap'"]


def test_missing_empty_and_unreadable_files_are_clear_spec_errors(tmp_path: Path) -> None:
    assert _load_errors(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert _load_errors(tmp_path / "empty.yaml") == [
        f"{tmp_path / 'empty.yaml'}: empty; expected a project spec (name, slug, fields, ...)"
    ]
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    assert _load_errors(tmp_path / "latin1.yaml") == [
        f"{tmp_path / 'latin1.yaml'}: not UTF-8 text (byte 9)"
    ]
    assert _load_errors(tmp_path) == [f"{tmp_path}: cannot read: Is a directory"]


# --- properties --------------------------------------------------------------------------------

_names = st.text(alphabet=string.ascii_lowercase + "_-", min_size=1, max_size=6)


def _label_name(label: Label) -> str:
    return label if isinstance(label, str) else next(iter(label))


def _label_lists(children: st.SearchStrategy[list[Label]]) -> st.SearchStrategy[list[Label]]:
    parent = st.builds(lambda name, kids: {name: kids}, _names, children)
    return st.lists(st.one_of(_names, parent), min_size=1, max_size=4, unique_by=_label_name)


taxonomies = st.recursive(
    st.lists(_names, min_size=1, max_size=4, unique=True), _label_lists, max_leaves=25
)


def _expected_leaves(labels: list[Label], prefix: str = "") -> Iterator[str]:
    for label in labels:
        if isinstance(label, str):
            yield prefix + label
        else:
            ((name, children),) = label.items()
            yield from _expected_leaves(children, f"{prefix}{name}/")


def _spec_with_labels(labels: object) -> dict[str, Any]:
    data = example()
    question(data, 1)["labels"] = labels
    return data


@given(taxonomies)
def test_any_taxonomy_with_distinct_siblings_parses_and_round_trips(labels: list[Label]) -> None:
    spec = parse_spec(_spec_with_labels(copy.deepcopy(labels)))
    topic = spec.question("topic")
    assert topic.choices == tuple(_expected_leaves(labels))
    assert len(set(topic.choices)) == len(topic.choices)
    assert topic.is_hierarchical == any(isinstance(label, dict) for label in labels)
    assert spec.canonical()["questions"][1]["labels"] == labels
    assert parse_spec(spec.canonical()) == spec


_loose_labels = st.recursive(
    st.lists(st.sampled_from(["a", "b", "", "a/b", 1]), max_size=4),
    lambda inner: st.lists(
        st.one_of(st.sampled_from(["a", "b"]), st.dictionaries(st.sampled_from(["a", "c"]), inner)),
        max_size=4,
    ),
    max_leaves=12,
)


@given(_loose_labels)
def test_any_label_list_either_parses_with_unique_choices_or_names_the_labels(
    labels: list[object],
) -> None:
    try:
        spec = parse_spec(_spec_with_labels(labels))
    except SpecError as error:
        assert error.errors
        assert all(e.startswith("questions[1].labels") for e in error.errors), error.errors
    else:
        choices = spec.question("topic").choices
        assert choices
        assert len(set(choices)) == len(choices)


def test_visible_to_keeps_role_order_and_is_left_out_of_the_canonical_spec_when_unset() -> None:
    data = yaml.safe_load(EXAMPLE)
    data["fields"].append({"name": "notes", "type": "text", "visible_to": ["viewer", "owner"]})
    spec = parse_spec(data)
    assert spec.field("notes").visible_to == ["owner", "viewer"]
    fields = spec.canonical()["fields"]
    assert "visible_to" not in fields[0] and fields[2]["visible_to"] == ["owner", "viewer"]
    # Listing every role hides the field from nobody: a question may point at it.
    every = ["owner", "manager", "reviewer", "annotator", "viewer"]
    data["fields"][0]["visible_to"] = every
    assert parse_spec(data).field("text").visible_to == every
