"""The README documents every setting and every CLI command, and gives CI's test command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from labelwise.cli.main import app
from labelwise.settings import Settings

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
