"""The project spec: what labelers see (fields), what they answer (questions), and the rules."""

import math
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Annotated, Literal, Self, TypeGuard, get_args

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from labelwise.policies import Role
from labelwise.spec._base import Problem, SpecModel, Variant, raise_problems, refuse, show
from labelwise.spec._labels import Label, check_labels, leaf_paths
from labelwise.spec.questions import QUESTION_TYPES, QuestionKind
from labelwise.spec.questions._kind import Check

FieldType = Literal["text", "markdown", "image", "chat", "pair", "metadata"]
# The registered question types (labelwise.spec.questions), spelled out for pydantic and mypy.
QuestionType = Literal[
    "single_label", "multi_label", "spans", "rating", "number", "text", "preference", "ranking"
]
ReviewPolicy = Literal["none", "all", "random", "stratified"]
AgreementMetric = Literal["krippendorff_alpha", "fleiss_kappa", "cohen_kappa", "kendall_tau"]
# When the labeling page shows a model's prediction: pre-filled in the form, never, or in the
# submit's reply only, once the labeler has answered on their own.
PrelabelMode = Literal["show", "hide", "after_submit"]
# The detectors of labelwise.privacy.pii (a test keeps the two lists equal).
PiiKind = Literal["email", "phone", "iban", "credit_card", "ip"]
PiiMode = Literal["mask", "pseudonymise", "flag"]
# Fields whose values hold text to look through; an image field holds a path or a URL.
PII_FIELD_TYPES = ("text", "markdown", "metadata", "chat", "pair")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise refuse(
            f"must be letters, digits or '_', not starting with a digit; got {show(value)}"
        )
    return value


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise refuse(
            "must be 1-63 lowercase letters, digits or '-', starting with a letter or digit"
        )
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise refuse("must not be empty")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
Text = Annotated[str, AfterValidator(_not_blank)]


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise refuse("must be one line")
    return value


OneLine = Annotated[str, AfterValidator(_not_blank), AfterValidator(_one_line)]


def _variants(
    keys: Mapping[str, tuple[set[str], tuple[str, ...]]], common: set[str], what: str
) -> dict[str, Variant]:
    return {
        kind: Variant(frozenset(common | allowed), required, what.format(kind))
        for kind, (allowed, required) in keys.items()
    }


# Keys of an imported row that say something about the item rather than being its data.
_NOT_DATA = {
    "id": "'id' is the item's external id",
    "priority": "'priority' is the item's place in the queue",
}


class FieldSpec(SpecModel):
    """Something shown to the labeler, taken from the item's data under the same name."""

    name: Identifier
    type: FieldType
    title: str | None = None
    required: bool = True
    # The roles that may see the field (policies.FieldView); None: every role.
    visible_to: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _metadata_is_optional(cls, data: object) -> object:
        """Metadata (source, language) is context that items often lack, so it's optional."""
        if isinstance(data, dict) and "required" not in data and data.get("type") == "metadata":
            return {**data, "required": False}
        return data

    @field_validator("name")
    @classmethod
    def _not_id(cls, value: str) -> str:
        if value in _NOT_DATA:
            raise refuse(f"{_NOT_DATA[value]}, not part of its data; rename the field")
        return value

    @field_validator("visible_to", mode="plain")
    @classmethod
    def _check_roles(cls, value: object, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return None
        name = info.data.get("name", "?")
        if not isinstance(value, list):
            raise refuse(f"field {name!r}: must be a list of roles; got {show(value)}")
        if not value:
            raise refuse(f"field {name!r}: must name a role; leave visible_to out for every role")
        for role in value:
            if role not in _ROLES:
                raise refuse(
                    f"field {name!r}: unknown role {show(role)}; roles are {', '.join(_ROLES)}"
                )
        return [role for role in _ROLES if role in value]  # Role order, each once

    def canonical(self) -> dict[str, object]:
        """Without `visible_to` when every role sees the field: specs stored before it
        existed stay as they were."""
        found = super().canonical()
        if self.visible_to is None:
            del found["visible_to"]
        return found


_ROLES = tuple(role.value for role in Role)


_QUESTION_VARIANTS = _variants(
    {name: (set(kind.keys), kind.required) for name, kind in QUESTION_TYPES.items()},
    common={"name", "type", "title", "required"},
    what="a {} question",
)


class QuestionSpec(SpecModel):
    """Something the labeler answers; which keys apply depends on the type."""

    name: Identifier
    type: QuestionType
    title: str | None = None
    required: bool = True
    labels: list[Label] | None = None
    min: int | float | None = None
    max: int | float | None = None
    field: str | None = None
    allow_overlap: bool = True
    max_length: int | None = Field(default=None, gt=0)
    min_choices: int | None = Field(default=None, ge=1)
    max_choices: int | None = Field(default=None, ge=1)
    responses: list[Identifier] | None = None

    # Derived once, on first use, for validate_answers, which runs on every submission.
    @cached_property
    def kind(self) -> QuestionKind:
        """Everything about this question's type (labelwise.spec.questions)."""
        return QUESTION_TYPES[self.type]

    @cached_property
    def choices(self) -> tuple[str, ...]:
        """The valid label answers in display order; leaf paths for a taxonomy."""
        return tuple(leaf_paths(self.labels or []))

    @cached_property
    def _rank(self) -> dict[str, int]:
        return {choice: rank for rank, choice in enumerate(self.choices)}

    @cached_property
    def response_names(self) -> tuple[str, ...]:
        """The responses a ranking orders, in spec order; () for other types."""
        return tuple(self.responses or ())

    @cached_property
    def _response_rank(self) -> dict[str, int]:
        return {name: place for place, name in enumerate(self.response_names)}

    @cached_property
    def _range(self) -> tuple[float, float]:
        low, high = self.min, self.max
        return (-math.inf if low is None else low, math.inf if high is None else high)

    @property
    def is_hierarchical(self) -> bool:
        return any(isinstance(label, dict) for label in self.labels or ())

    @classmethod
    def _variant(cls, data: Mapping[str, object]) -> Variant | None:
        kind = data.get("type")
        return _QUESTION_VARIANTS.get(kind) if isinstance(kind, str) else None

    @field_validator("labels", mode="plain")
    @classmethod
    def _check_labels(cls, value: object) -> list[Label] | None:
        if value is None:
            return None
        labels, problems = check_labels(value)
        if problems:
            raise_problems("labels", problems)
        return labels

    @field_validator("min", "max", mode="plain")
    @classmethod
    def _check_bound(cls, value: object, info: ValidationInfo) -> int | float | None:
        if value is None:
            return None
        kind = QUESTION_TYPES.get(info.data.get("type", ""))
        if kind is not None and kind.integer_bounds:
            if not isinstance(value, int) or isinstance(value, bool):
                raise refuse(f"must be an integer; got {show(value)}")
        elif not _is_number(value):
            raise refuse(f"must be a finite number; got {show(value)}")
        low = info.data.get("min")
        if info.field_name == "max" and low is not None and value <= low:
            raise refuse(f"must be greater than min ({low})")
        return value

    @field_validator("responses")
    @classmethod
    def _check_responses(cls, value: list[str] | None) -> list[str] | None:
        names = value or []
        if value is not None and len(names) < 2:
            raise refuse(f"name at least 2 responses to rank; got {len(names)}")
        for index, name in enumerate(names):
            if name in names[:index]:
                raise refuse(f"{name!r} is listed twice; name each response once")
        return value

    @field_validator("min_choices", "max_choices")
    @classmethod
    def _check_choice_count(cls, value: int | None, info: ValidationInfo) -> int | None:
        labels, low = info.data.get("labels"), info.data.get("min_choices")
        count = len(list(leaf_paths(labels))) if labels else None
        if value is not None and count is not None and value > count:
            raise refuse(f"must be at most the number of choices ({count})")
        if (
            info.field_name == "max_choices"
            and value is not None
            and low is not None
            and value < low
        ):
            raise refuse(f"must be at least min_choices ({low})")
        return value


_REVIEW_VARIANTS = _variants(
    {
        "none": (set(), ()),
        "all": (set(), ()),
        "random": ({"rate"}, ("rate",)),
        "stratified": ({"rate", "slice_by", "min_per_slice"}, ("rate", "slice_by")),
    },
    common={"policy"},
    what="the {!r} review policy",
)


class ReviewSpec(SpecModel):
    """Which annotations a reviewer sees: none, all, a random or a per-slice sample."""

    policy: ReviewPolicy = "none"
    rate: float | None = Field(default=None, gt=0, le=1)
    slice_by: str | None = None
    min_per_slice: int = Field(default=0, ge=0)

    @classmethod
    def _variant(cls, data: Mapping[str, object]) -> Variant | None:
        policy = data.get("policy", "none")
        return _REVIEW_VARIANTS.get(policy) if isinstance(policy, str) else None


class ModelBackendSpec(SpecModel):
    """A model server that pre-labels each item as it is imported (services/model_backend.py)."""

    url: str
    batch_size: int = Field(default=32, ge=1, le=1000)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise refuse(f"{value!r} is not an http:// or https:// URL")
        return value


class WorkflowSpec(SpecModel):
    """How items flow: annotators per item, leases, review, adjudication, workload caps, and
    which model pre-labels them and when its predictions are shown as suggestions."""

    overlap: int = Field(default=1, ge=1)
    lease_minutes: int = Field(default=30, ge=1)
    review: ReviewSpec = Field(default_factory=ReviewSpec)
    adjudicate: Literal["none", "disagreement"] = "none"
    max_per_annotator: int | None = Field(default=None, ge=1)
    # uncertainty: the built-in model, retrained in the background every `retrain_every` new
    # annotations, sets the priorities, least sure first (services/active_learning.py)
    order: Literal["priority", "uncertainty"] = "priority"
    retrain_every: int = Field(default=100, ge=1)
    prelabels: PrelabelMode = "show"
    model_backend: ModelBackendSpec | None = None

    @field_validator("adjudicate")
    @classmethod
    def _needs_overlap(cls, value: str, info: ValidationInfo) -> str:
        overlap = info.data.get("overlap")
        if value == "disagreement" and overlap is not None and overlap < 2:
            raise refuse(f"'disagreement' needs an overlap of at least 2; overlap is {overlap}")
        return value


class QualificationSpec(SpecModel):
    """A gold-item test an annotator must pass before labeling."""

    items: int = Field(ge=1)
    min_accuracy: float = Field(ge=0, le=1)


class AgreementTargetSpec(SpecModel):
    """The inter-annotator agreement the project aims for."""

    metric: AgreementMetric
    min: float = Field(ge=-1, le=1)


class TooFastSpec(SpecModel):
    """Flag answers given faster than `min_ms`, or than the project's `percentile` of times."""

    min_ms: int | None = Field(default=None, ge=1)
    percentile: float | None = Field(default=None, gt=0, lt=50)


class StraightLiningSpec(SpecModel):
    """Flag annotators whose most used label is `margin` above that label's overall share."""

    min_items: int = Field(default=20, ge=2)
    margin: float = Field(default=0.3, gt=0, lt=1)


class LowGoldAccuracySpec(SpecModel):
    """Flag annotators whose gold accuracy is surely (95% Wilson bound) under `min_accuracy`."""

    min_accuracy: float = Field(ge=0, le=1)


class ModelDisagreementSpec(SpecModel):
    """Flag items whose consensus label a model trained on the others is confident is wrong."""

    min_items: int = Field(default=200, ge=10)


class ChecksSpec(SpecModel):
    """Automated checks over submitted work (`labelwise checks run`); each is off unless set."""

    invalid_answers: bool = True  # stored answers that no longer fit the questions
    too_fast: TooFastSpec | None = None
    straight_lining: StraightLiningSpec | None = None
    low_gold_accuracy: LowGoldAccuracySpec | None = None
    model_disagreement: ModelDisagreementSpec | None = None
    send_to_review: bool = False  # send items with a flagged answer back to review


class QualitySpec(SpecModel):
    gold_rate: float = Field(default=0.0, ge=0, lt=1)
    qualification: QualificationSpec | None = None
    agreement_target: AgreementTargetSpec | None = None
    checks: ChecksSpec = Field(default_factory=ChecksSpec)


class PiiSpec(SpecModel):
    """Personal data to look for in items as they are imported, and what to do with it:
    replace it by its kind (mask), by a keyed token (pseudonymise), or keep it and mark the
    item (flag)."""

    fields: list[str] = Field(min_length=1)
    detect: list[PiiKind] = Field(default_factory=lambda: list(get_args(PiiKind)), min_length=1)
    mode: PiiMode = "mask"

    @field_validator("fields", "detect")
    @classmethod
    def _each_once(cls, value: list[str], info: ValidationInfo) -> list[str]:
        seen: dict[str, int] = {}
        problems: list[Problem] = []
        for index, name in enumerate(value):
            if name in seen:
                problems.append(((index,), f"{name!r} is listed twice (see [{seen[name]}])"))
            seen.setdefault(name, index)
        if problems:
            raise_problems(str(info.field_name), problems)
        return value


class PrivacySpec(SpecModel):
    pii: PiiSpec | None = None


class ProjectSpec(SpecModel):
    """A whole project as code: applying the same spec twice changes nothing."""

    name: Text
    slug: Annotated[str, AfterValidator(_slug)]
    goal: str = ""
    fields: list[FieldSpec] = Field(min_length=1)
    questions: list[QuestionSpec] = Field(min_length=1)
    workflow: WorkflowSpec = Field(default_factory=WorkflowSpec)
    quality: QualitySpec = Field(default_factory=QualitySpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    # The guidelines as markdown, or a markdown file relative to the spec file: applying the
    # spec publishes them as a new guidelines version when they differ from the current one,
    # with this changelog note.
    guidelines: Text | None = None
    guidelines_file: Text | None = None
    guidelines_note: OneLine | None = None

    @model_validator(mode="after")
    def _one_source_of_guidelines(self) -> Self:
        if self.guidelines is not None and self.guidelines_file is not None:
            raise refuse("give guidelines (markdown) or guidelines_file (a path), not both")
        return self

    @cached_property
    def _fields(self) -> dict[str, FieldSpec]:
        return {field.name: field for field in self.fields}

    @cached_property
    def _questions(self) -> dict[str, QuestionSpec]:
        return {question.name: question for question in self.questions}

    @cached_property
    def _answer_checks(self) -> tuple[tuple[QuestionSpec, Check, bool], ...]:
        """Per question, its answer check and whether [] is an answer: validate_answers' loop."""
        return tuple((q, q.kind.validate, q.kind.empty_is_answer) for q in self.questions)

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; KeyError if there is none."""
        try:
            return self._fields[name]
        except KeyError:
            raise KeyError(f"no field named {name!r}") from None

    def question(self, name: str) -> QuestionSpec:
        """The question called ``name``; KeyError if there is none."""
        try:
            return self._questions[name]
        except KeyError:
            raise KeyError(f"no question named {name!r}") from None

    @classmethod
    def _cross_checks(cls, data: Mapping[str, object]) -> Iterator[Problem]:
        fields, questions = _entries(data, "fields"), _entries(data, "questions")
        yield from _duplicates(fields, "fields", "field")
        yield from _duplicates(questions, "questions", "question")
        if not fields or not all(_named(entry) for entry in fields):
            return  # without every field's name, a good reference could look wrong
        types = {entry["name"]: entry.get("type") for entry in fields if _named(entry)}
        restricted = {entry["name"] for entry in fields if _restricted(entry)}
        for index, question in enumerate(questions):
            problem = _field_reference(question, question.get("field"), types) or _hidden_reference(
                question.get("field"), restricted, "a question's field"
            )
            if problem:
                yield ("questions", index, "field"), problem
            yield from _response_references(
                question, types, restricted, ("questions", index, "responses")
            )
        slice_by = _stratified_slice(data.get("workflow"))
        if slice_by is not None and slice_by not in types:
            yield ("workflow", "review", "slice_by"), _no_such_field(slice_by, types)
        elif problem := _hidden_reference(slice_by, restricted, "the review's slice_by"):
            yield ("workflow", "review", "slice_by"), problem
        workflow = data.get("workflow")
        if isinstance(workflow, dict) and workflow.get("order") == "uncertainty":
            learnable = any(q.get("type") in ("single_label", "multi_label") for q in questions)
            if not learnable or "text" not in types.values():
                yield (
                    ("workflow", "order"),
                    "'uncertainty' needs a single_label or multi_label question and a text "
                    "field to learn from",
                )
        for index, name in _pii_fields(data.get("privacy")):
            problem = _pii_field_problem(name, types)
            if problem:
                yield ("privacy", "pii", "fields", index), problem


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _entries(data: Mapping[str, object], key: str) -> list[dict[str, object]]:
    """The mappings in a raw list; anything else there is pydantic's to report."""
    value = data.get(key)
    entries = value if isinstance(value, list) else []
    return [entry if isinstance(entry, dict) else {} for entry in entries]


def _named(entry: Mapping[str, object]) -> bool:
    return isinstance(entry.get("name"), str)


def _duplicates(entries: list[dict[str, object]], key: str, what: str) -> Iterator[Problem]:
    first: dict[object, int] = {}
    for index, entry in enumerate(entries):
        if not _named(entry):
            continue
        name = entry["name"]
        if name in first:
            yield (key, index, "name"), f"duplicate {what} name {name!r} (see {key}[{first[name]}])"
        first.setdefault(name, index)


def _field_reference(
    question: Mapping[str, object], name: object, types: Mapping[object, object]
) -> str | None:
    """What is wrong with `name` as a field the question points at; None when it fits."""
    kind = question.get("type")
    registered = QUESTION_TYPES.get(kind) if isinstance(kind, str) else None
    wanted = registered.field_types if registered is not None else ()
    if not wanted or not isinstance(name, str):
        return None
    if name not in types:
        return _no_such_field(name, types)
    actual = types[name]
    if actual in get_args(FieldType) and actual not in wanted:
        needed = " or ".join(wanted)
        return f"{name!r} is a {actual} field; a {kind} question needs a {needed} field"
    return None


def _restricted(entry: Mapping[str, object]) -> bool:
    """Whether some role may not see the field; a bad visible_to is the field's to report."""
    roles = entry.get("visible_to")
    return isinstance(roles, list) and not set(_ROLES) <= set(roles)


def _hidden_reference(name: object, restricted: set[object], what: str) -> str | None:
    """Every role must see a field that the spec itself points at: annotators answer on a
    question's field and reviewers judge those answers; a slice's values name review strata."""
    if name in restricted:
        return f"{name!r} is hidden from some roles (visible_to); {what} must be seen by every role"
    return None


def _response_references(
    question: Mapping[str, object],
    types: Mapping[object, object],
    restricted: set[object],
    loc: tuple[str | int, ...],
) -> Iterator[Problem]:
    """Each of a ranking's responses must be a field of a type the question can show, seen
    by every role."""
    responses = question.get("responses")
    for index, name in enumerate(responses if isinstance(responses, list) else []):
        problem = _field_reference(question, name, types) or _hidden_reference(
            name, restricted, "a ranking's response"
        )
        if problem:
            yield (*loc, index), problem


def _no_such_field(name: str, types: Mapping[object, object]) -> str:
    return f"no field named {name!r}; fields are {', '.join(map(str, types))}"


def _pii_fields(privacy: object) -> Iterator[tuple[int, str]]:
    pii = privacy.get("pii") if isinstance(privacy, dict) else None
    names = pii.get("fields") if isinstance(pii, dict) else None
    if isinstance(names, list):
        yield from ((i, name) for i, name in enumerate(names) if isinstance(name, str))


def _pii_field_problem(name: str, types: Mapping[object, object]) -> str | None:
    if name not in types:
        return _no_such_field(name, types)
    kind = types[name]
    if kind in get_args(FieldType) and kind not in PII_FIELD_TYPES:
        return (
            f"{name!r} is a field of type {kind}; PII is looked for in "
            f"{', '.join(PII_FIELD_TYPES)} fields"
        )
    return None


def _stratified_slice(workflow: object) -> str | None:
    review = workflow.get("review") if isinstance(workflow, dict) else None
    if isinstance(review, dict) and review.get("policy") == "stratified":
        slice_by = review.get("slice_by")
        return slice_by if isinstance(slice_by, str) else None
    return None
