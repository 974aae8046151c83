"""Settings from LABELWISE_* variables: a bad value is one line naming the variable, its
value and what was expected, exit code 2, from every command that reads the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from labelwise.app import app_from_env
from labelwise.cli.main import app
from labelwise.errors import InvalidInput
from labelwise.settings import from_env

COMMANDS = [
    ("users", "list"),
    ("projects", "list"),
    ("stats", "t"),
    ("release", "verify", "t", "v1"),
    ("export", "t", "--output", "out.jsonl"),
    ("serve",),
]

BAD = [
    ("LABELWISE_PORT", "abc", "LABELWISE_PORT='abc': expected a whole number"),
    ("LABELWISE_PORT", "70000", "LABELWISE_PORT='70000': expected a whole number of at most 65535"),
    (
        "LABELWISE_SESSION_HOURS",
        "0",
        "LABELWISE_SESSION_HOURS='0': expected a whole number of at least 1",
    ),
    (
        "LABELWISE_SECURE_COOKIES",
        "maybe",
        "LABELWISE_SECURE_COOKIES='maybe': expected true or false (also 1/0, yes/no, on/off)",
    ),
    (
        "LABELWISE_DATABASE_URL",
        "not a url",
        "LABELWISE_DATABASE_URL='not a url': expected a database URL, "
        "e.g. postgresql+psycopg://user@host/db",
    ),
    (
        "LABELWISE_DATABASE_URL",
        "mysql://root:secret@db/labels",
        "LABELWISE_DATABASE_URL='mysql://root:***@db/labels': "
        "expected a sqlite:// or postgresql:// URL, not mysql://",
    ),
]


def invoke(tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"LABELWISE_DATA_DIR": str(tmp_path), **env})


def refused(result: Result) -> list[str]:
    """The command stopped with exit code 2 and no traceback; the lines it printed."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output.strip().splitlines()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_port_is_one_line_from_every_command(tmp_path: Path, command: tuple[str]) -> None:
    lines = refused(invoke(tmp_path, {"LABELWISE_PORT": "abc"}, *command))
    assert lines == ["error: LABELWISE_PORT='abc': expected a whole number"]


@pytest.mark.parametrize(("name", "value", "said"), BAD)
def test_each_bad_value_names_the_variable_its_value_and_what_was_expected(
    tmp_path: Path, name: str, value: str, said: str
) -> None:
    assert refused(invoke(tmp_path, {name: value}, "users", "list")) == [f"error: {said}"]


def test_every_bad_variable_has_its_line(tmp_path: Path) -> None:
    env = {"LABELWISE_PORT": "abc", "LABELWISE_LOGIN_WINDOW_MINUTES": "soon"}
    assert refused(invoke(tmp_path, env, "users", "list")) == [
        "error: LABELWISE_PORT='abc': expected a whole number",
        "LABELWISE_LOGIN_WINDOW_MINUTES='soon': expected a whole number",
    ]


def test_the_server_factory_refuses_them_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELWISE_PORT", "abc")
    with pytest.raises(InvalidInput, match=r"^LABELWISE_PORT='abc': expected a whole number$"):
        from_env()
    with pytest.raises(InvalidInput, match="LABELWISE_PORT"):
        app_from_env()


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    taken = tmp_path / "data"
    taken.write_text("not a directory")
    lines = refused(invoke(taken, {}, "users", "list"))
    assert lines == [
        f"error: data directory {taken} (LABELWISE_DATA_DIR or --data-dir): "
        "cannot create it: it is a file"
    ]
