"""`extends`: a spec built on a template file or a built-in template, merged before parsing.

Merge rules (docs/spec.md, "Templates"): mappings merge key by key, deeply, and the child wins;
`fields` and `questions` merge by `name` (an entry with a known name merges into the
template's entry in its place, a new name is appended); any other list, and any other value,
is replaced by the child's. A template may itself extend another; a cycle or a missing
template is one error naming the file and the `extends` value.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labelwise.spec._base import SpecError

TEMPLATES_DIR = Path(__file__).parent / "templates"
_NAMED_LISTS = frozenset({"fields", "questions"})
_PATH_SUFFIXES = (".yaml", ".yml", ".json")

Reader = Callable[[Path], object]


def builtin_templates() -> list[str]:
    """The names `extends` accepts without a path, from the package's templates folder."""
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.yaml"))


def resolve_extends(
    data: object, source: Path | None, read: Reader, chain: tuple[str, ...] = ()
) -> object:
    """`data` with its `extends` chain merged in. `source` is the file it came from (None for a
    spec given as JSON, which may extend only a built-in template); `chain` the files above."""
    if not isinstance(data, dict) or "extends" not in data:
        return data
    where = os.fspath(source) if source is not None else "spec"
    if source is not None and not chain:
        chain = (_key(source),)
    value = data["extends"]
    if not isinstance(value, str) or not value.strip():
        raise SpecError([f"{where}: extends: must be a template name or a path; got {value!r}"])
    path, key = _locate(value, source, where)
    if key in chain:
        raise SpecError([f"{where}: extends: {value!r}: a cycle ({' -> '.join([*chain, key])})"])
    parent = read(path)
    if not isinstance(parent, dict):
        raise SpecError([f"{os.fspath(path)}: a template must be a mapping"])
    resolved = resolve_extends(parent, path, read, (*chain, key))
    return merge(resolved, {k: v for k, v in data.items() if k != "extends"})


def merge(parent: Any, child: Any, key: str | None = None) -> Any:
    """The child over the parent by the rules in the module docstring."""
    if isinstance(parent, dict) and isinstance(child, dict):
        merged = dict(parent)
        for name, value in child.items():
            merged[name] = merge(parent[name], value, name) if name in parent else value
        return merged
    if key in _NAMED_LISTS and _named(parent) and _named(child):
        entries = {entry["name"]: entry for entry in parent}
        for entry in child:
            name = entry["name"]
            entries[name] = merge(entries[name], entry) if name in entries else entry
        return list(entries.values())
    return child


def _named(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in value
    )


def _locate(value: str, source: Path | None, where: str) -> tuple[Path, str]:
    if value.endswith(_PATH_SUFFIXES) or "/" in value:
        if source is None:
            raise SpecError(
                [
                    f"{where}: extends: {value!r}: a path needs a spec file; built-in templates: "
                    f"{', '.join(builtin_templates())}"
                ]
            )
        path = source.parent / value
        if not path.is_file():
            raise SpecError([f"{where}: extends: {value!r}: no such file {os.fspath(path)}"])
        return path, _key(path)
    if value not in builtin_templates():
        raise SpecError(
            [
                f"{where}: extends: {value!r}: no such built-in template; they are "
                f"{', '.join(builtin_templates())}"
            ]
        )
    return TEMPLATES_DIR / f"{value}.yaml", f"built-in {value}"


def _key(path: Path) -> str:
    return os.fspath(path.resolve()) if path.parent != TEMPLATES_DIR else f"built-in {path.stem}"
