"""The spec models' common ground: strict parsing, with every problem reported in our words.

Pydantic checks every field, but its messages talk about Python types, it cannot know which keys
a question of a given type may have, and its whole-model checks only run once every field is
valid. The base model below fixes the three: it rewords pydantic's errors (only the model knows
its own keys), screens keys that depend on a discriminating value (a question's type, a review
policy), and runs cross-field checks on the raw input, so that one bad field hides nothing else.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, ValidationError

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]

_OURS = "spec"  # the error type of messages already in our words

_MESSAGES = {
    "missing": "required",
    "string_type": "must be a string; got {got}",
    "int_type": "must be an integer; got {got}",
    "float_type": "must be a number; got {got}",
    "bool_type": "must be true or false; got {got}",
    "list_type": "must be a list; got {got}",
    "model_type": "must be a mapping; got {got}",
    "finite_number": "must be a finite number; got {got}",
    "greater_than": "must be greater than {gt}; got {got}",
    "greater_than_equal": "must be at least {ge}; got {got}",
    "less_than": "must be less than {lt}; got {got}",
    "less_than_equal": "must be at most {le}; got {got}",
    "too_short": "must not be empty",
    "invalid_key": "keys must be strings",
}


class SpecError(ValueError):
    """Everything wrong with a project spec, one ``<path>: <message>`` per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class AnswerError(ValueError):
    """An answer that does not fit its question: which question, and what was expected."""

    def __init__(self, question: str, message: str) -> None:
        super().__init__(f"{question}: {message}")
        self.question = question
        self.message = message


def show(value: object) -> str:
    """A value as its author wrote it in YAML or JSON, short enough for one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def refuse(message: str) -> PydanticCustomError:
    """An error for a validator to raise, already in our words."""
    return PydanticCustomError(_OURS, "{message}", {"message": message})


def raise_problems(title: str, problems: Iterable[Problem]) -> NoReturn:
    """Raise several problems at once; pydantic prefixes their paths as the error bubbles up."""
    details = [InitErrorDetails(type=refuse(m), loc=loc, input=None) for loc, m in problems]
    raise ValidationError.from_exception_data(title, details)


def format_path(loc: Sequence[str | int]) -> str:
    """``("questions", 2, "max")`` -> ``questions[2].max``; the whole spec is ``spec``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "spec"


@dataclass(frozen=True)
class Variant:
    """The keys one kind of object may have, e.g. a rating question or the random review policy."""

    allowed: frozenset[str]
    required: tuple[str, ...]
    what: str


class SpecModel(BaseModel):
    """Strict (no silent "5" -> 5), closed (no unknown keys) and immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def _variant(cls, data: Mapping[str, object]) -> Variant | None:
        """The keys allowed when they depend on one of the values; None when they don't."""
        return None

    @classmethod
    def _cross_checks(cls, data: Mapping[str, object]) -> Iterator[Problem]:
        """Checks across fields, on the raw input so that they run even when a field is bad."""
        return iter(())

    def canonical(self) -> dict[str, Any]:
        """A JSON-ready dict with every default filled and only the keys that apply."""
        variant = self._variant(dict(self))
        return {
            name: _canonical(getattr(self, name))
            for name in type(self).model_fields
            if variant is None or name in variant.allowed
        }

    @model_validator(mode="wrap")
    @classmethod
    def _report_everything(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        problems: list[Problem] = []
        if isinstance(data, dict):
            data, problems = cls._screen(data)
            problems.extend(cls._cross_checks(data))
        model = None
        try:
            model = handler(data)
        except ValidationError as exc:
            problems.extend((tuple(e["loc"]), cls._reword(e)) for e in exc.errors())
        if problems or model is None:
            order = {name: i for i, name in enumerate(cls.model_fields)}
            problems.sort(key=lambda problem: _position(problem[0], order))
            raise_problems(cls.__name__, problems)
        return model

    @classmethod
    def _screen(cls, data: dict[Any, object]) -> tuple[dict[Any, object], list[Problem]]:
        """Refuse keys that don't apply to this variant and drop them before pydantic sees them.

        A key left at its default is as good as absent, so ``model_dump()`` output parses too.
        """
        variant = cls._variant(data)
        if variant is None:
            return data, []
        kept: dict[Any, object] = {}
        problems: list[Problem] = []
        for key, value in data.items():
            if key in variant.allowed:
                kept[key] = value
            elif key not in cls.model_fields:
                expected = ", ".join(name for name in cls.model_fields if name in variant.allowed)
                problems.append(((str(key),), f"unknown key; expected one of {expected}"))
            elif value != cls.model_fields[key].default:
                problems.append(((key,), f"not allowed for {variant.what}"))
        for key in variant.required:
            if kept.get(key) is None:
                problems.append(((key,), f"required for {variant.what}"))
        return kept, problems

    @classmethod
    def _reword(cls, error: ErrorDetails) -> str:
        kind, loc, got = error["type"], error["loc"], error["input"]
        if kind == _OURS:
            return error["msg"]
        if kind == "extra_forbidden":
            return f"unknown key; expected one of {', '.join(cls.model_fields)}"
        if kind == "literal_error" and loc and loc[0] in cls.model_fields:  # or a list's entry
            values = _literal_values(cls.model_fields[str(loc[0])].annotation)
            return f"expected one of {', '.join(map(str, values))}; got {show(got)}"
        template = _MESSAGES.get(kind)
        if template is None:
            return error["msg"]
        bounds = {key: _plain(value) for key, value in error.get("ctx", {}).items()}
        return template.format(got=show(got), **bounds)


def _canonical(value: object) -> object:
    if isinstance(value, SpecModel):
        return value.canonical()
    if isinstance(value, list):
        return [_canonical(entry) for entry in value]
    if isinstance(value, dict):
        return {key: _canonical(entry) for key, entry in value.items()}
    return value


def _plain(value: object) -> object:
    """``1`` rather than ``1.0`` for a bound declared on a float field."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _position(loc: Loc, order: Mapping[str, int]) -> tuple[int, int]:
    """Sort key putting problems in the order of the model's fields, then of list entries."""
    if not loc:
        return (-1, -1)
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1
    return (order.get(str(loc[0]), len(order)), index)


def _literal_values(annotation: object) -> tuple[object, ...]:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return tuple(value for arg in get_args(annotation) for value in _literal_values(arg))
