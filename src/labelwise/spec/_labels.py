"""Label lists, flat ``[billing, other]`` or a taxonomy ``[{hardware: [laptop, phone]}]``.

A taxonomy's answers are leaf paths (``hardware/laptop``), so labels may not contain ``/``;
siblings must differ, which makes every leaf path unique while still allowing the common
``hardware/other`` beside ``software/other``.
"""

from collections.abc import Iterator
from typing import TypeGuard

from typing_extensions import TypeAliasType

from labelwise.spec._base import Loc, Problem, show

Label = TypeAliasType("Label", "str | dict[str, list[Label]]")

_PARENT_SHAPE = "a parent label is a mapping with one key, like {hardware: [laptop, phone]}"


def check_labels(value: object) -> tuple[list[Label], list[Problem]]:
    """The labels, and every problem with them, with paths relative to the list."""
    problems: list[Problem] = []
    return _entries(value, (), problems), problems


def leaf_paths(labels: list[Label], prefix: str = "") -> Iterator[str]:
    """The valid answers in display order: ``billing``, or ``hardware/laptop`` in a taxonomy."""
    for label in labels:
        if isinstance(label, str):
            yield prefix + label
        else:
            for parent, children in label.items():
                yield from leaf_paths(children, f"{prefix}{parent}/")


def _entries(value: object, loc: Loc, problems: list[Problem]) -> list[Label]:
    if not isinstance(value, list):
        problems.append((loc, f"must be a list of labels; got {show(value)}"))
        return []
    if not value:
        parent = loc and isinstance(loc[-1], str)
        problems.append(
            (loc, "must list at least one child label" if parent else "must not be empty")
        )
        return []
    labels: list[Label] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        here = (*loc, index)
        if isinstance(entry, dict) and len(entry) != 1:
            problems.append((here, _PARENT_SHAPE))
            continue
        name, children = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        if not _is_label(name, here, problems):
            continue
        if name in seen:
            problems.append((loc, f"duplicate label {name!r}"))
        seen.add(name)
        if isinstance(entry, dict):
            labels.append({name: _entries(children, (*here, name), problems)})
        else:
            labels.append(name)
    return labels


def _is_label(name: object, loc: Loc, problems: list[Problem]) -> TypeGuard[str]:
    problem = _label_problem(name)
    if problem:
        problems.append((loc, problem))
    return problem is None


def _label_problem(name: object) -> str | None:
    if isinstance(name, bool):
        return "must be a string; quote it, as YAML reads yes, no, on, off, true, false as booleans"
    if isinstance(name, int | float):
        return f"must be a string; quote it: '{name}'"
    if not isinstance(name, str):
        return f"must be a label or a parent like {{hardware: [laptop, phone]}}; got {show(name)}"
    if not name.strip():
        return "must not be empty"
    if name != name.strip():
        return f"must not start or end with spaces; got {name!r}"
    if "/" in name:
        return f"must not contain '/', which separates a parent from its children; got {name!r}"
    return None
