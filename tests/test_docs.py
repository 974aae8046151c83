"""The README documents every setting and every CLI command, and gives CI's test command;
docs/spec.md documents every key of the project spec."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import typer
from pydantic import BaseModel

from labelwise.cli.main import app
from labelwise.settings import Settings
from labelwise.spec import ProjectSpec

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _command_paths(command: Any, prefix: str = "labelwise") -> list[str]:
    if hasattr(command, "commands"):
        return [
            path
            for name, sub in command.commands.items()
            for path in _command_paths(sub, f"{prefix} {name}")
        ]
    return [prefix]


def test_every_setting_is_documented() -> None:
    missing = [
        f"LABELWISE_{name.upper()}"
        for name in Settings.model_fields
        if f"`LABELWISE_{name.upper()}`" not in README
    ]
    assert missing == []


def test_every_command_is_documented() -> None:
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) > 10
    assert [p for p in paths if f"`{p}" not in README] == []


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in README and "\nscripts/test" in ci
    assert "pip install . && labelwise demo" in README


def _spec_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every key of the spec as docs/spec.md writes it (`workflow.review.rate`, `fields[].name`),
    with its annotation; nested models are walked through optionals and lists."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info.annotation
        for inner in _inner(info.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                is_list = get_origin(info.annotation) is list
                yield from _spec_keys(inner, f"{path}[]." if is_list else f"{path}.")


def _inner(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in get_args(annotation):
        yield from _inner(arg)


def _documented_keys(text: str) -> set[str]:
    """The first cells of the doc's tables whose header starts with `| key |`."""
    keys: set[str] = set()
    in_key_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_key_table = False
        elif line.startswith("| key |"):
            in_key_table = True
        elif in_key_table and (cell := re.match(r"\| `([^`]+)` \|", line)):
            keys.add(cell.group(1))
    return keys


def test_the_spec_reference_names_every_key_and_no_other() -> None:
    spec_doc = (ROOT / "docs" / "spec.md").read_text()
    keys = dict(_spec_keys(ProjectSpec))
    assert len(keys) > 40
    assert sorted(_documented_keys(spec_doc) ^ keys.keys()) == []
    values = {
        value
        for annotation in keys.values()
        for inner in _inner(annotation)
        if get_origin(inner) is Literal
        for value in get_args(inner)
    }
    assert {"single_label", "metadata", "stratified", "cohen_kappa"} <= values
    assert [value for value in sorted(values) if f"`{value}`" not in spec_doc] == []


def test_the_readme_points_at_the_spec_reference() -> None:
    assert "docs/spec.md" in README and "../shared" not in README


def test_the_layout_names_every_package_and_service() -> None:
    layout = README[README.index("## Layout") :]
    package = ROOT / "src" / "labelwise"
    names = [p.name + "/" for p in package.iterdir() if (p / "__init__.py").exists()]
    names += [p.name for p in package.glob("*.py") if p.name != "__init__.py"]
    services = package / "services"
    names += [p.name for p in services.glob("*.py") if p.name != "__init__.py"]
    names += [p.name + "/" for p in services.iterdir() if (p / "__init__.py").exists()]
    assert len(names) > 30
    assert [name for name in names if f" {name} " not in layout] == []
