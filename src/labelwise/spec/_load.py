"""From a dict or a YAML/JSON file to a ProjectSpec, or a SpecError naming every problem."""

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from labelwise.spec._base import SpecError, format_path
from labelwise.spec._extends import resolve_extends
from labelwise.spec._model import ProjectSpec


def parse_spec(data: object) -> ProjectSpec:
    """Validate a spec as read from YAML or JSON; raise SpecError with all its problems."""
    data = resolve_extends(data, None, _read_data)
    try:
        return ProjectSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([f"{format_path(e['loc'])}: {e['msg']}" for e in exc.errors()]) from None


def read_spec_file(path: str | os.PathLike[str]) -> object:
    """A YAML or JSON spec file with the templates it extends merged in, not yet validated
    (the SDK sends it to a server, which validates it); SpecError naming the file."""
    return resolve_extends(_read_data(Path(path)), Path(path), _read_data)


def load_spec_file(path: str | os.PathLike[str]) -> ProjectSpec:
    """Read a YAML or JSON spec file and the templates it extends; every error names the file."""
    name = os.fspath(path)
    data = read_spec_file(path)
    try:
        return ProjectSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            [f"{name}: {format_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from None


def _read_data(path: Path) -> object:
    """One YAML or JSON file as data; SpecError naming the file otherwise."""
    name = os.fspath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"{name}: no such file"]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([f"{name}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise SpecError([f"{name}: cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise SpecError([f"{name}: {_yaml_problem(exc)}"]) from None
    except yaml.YAMLError as exc:
        raise SpecError([f"{name}: invalid YAML: {exc}"]) from None
    if data is None:
        raise SpecError([f"{name}: empty; expected a project spec (name, slug, fields, ...)"])
    return data


def load_guidelines_file(spec_path: str | os.PathLike[str], spec: ProjectSpec) -> str | None:
    """The markdown of the guidelines file the spec names (relative to the spec file), or
    None when it names none; a missing or unreadable file is a SpecError naming both."""
    if spec.guidelines_file is None:
        return None
    path = Path(spec_path).parent / spec.guidelines_file
    where = f"{os.fspath(spec_path)}: guidelines_file: {os.fspath(path)}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"{where}: no such file"]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([f"{where}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise SpecError([f"{where}: cannot read: {exc.strerror}"]) from None
    if not text.strip():
        raise SpecError([f"{where}: the file is empty"])
    return text


def _yaml_problem(exc: Any) -> str:
    """PyYAML's error as ``line L, column C: problem``, 1-based like every editor."""
    problem = f"{_where(exc.problem_mark)}: {exc.problem}" if exc.problem_mark else str(exc)
    if exc.context and exc.context_mark:  # e.g. a flow mapping left open on an earlier line
        problem += f" ({exc.context} at {_where(exc.context_mark)})"
    return problem


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc,unused-ignore]  # untyped base
    """SafeLoader that refuses a repeated key, which plain YAML silently lets win."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # PyYAML itself refuses unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
