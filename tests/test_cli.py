"""The `labelwise` command, run in-process on real databases (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from labelwise.app import create_app
from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.settings import Settings
from tests.conftest import bearer

SPEC_YAML = """\
name: Tickets
slug: tickets
goal: Route tickets.
fields:
  - {name: text, type: text}
  - {name: channel, type: metadata}
questions:
  - {name: team, type: single_label, labels: [billing, technical]}
  - {name: urgency, type: rating, min: 1, max: 5}
workflow: {overlap: 2}
"""


@pytest.fixture
def run(db: Database, tmp_path: Path) -> object:
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


def test_users_and_tokens(run, settings: Settings, db: Database) -> None:  # type: ignore[no-untyped-def]
    created = run("users", "create", "ana", "--admin", "--password-stdin", input="long password\n")
    assert created.exit_code == 0, created.output
    again = run("users", "create", "ana", "--password-stdin", input="long password\n")
    assert again.exit_code == 1 and "already exists" in again.output
    short = run("users", "create", "bo", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output
    assert "ana" in run("users", "list").output

    made = run("tokens", "create", "ana", "--name", "laptop")
    assert made.exit_code == 0
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("lw_")
    listing = run("tokens", "list", "ana").output
    assert "laptop" in listing and secret not in listing

    with TestClient(create_app(settings, db)) as client:
        assert client.get("/api/v1/projects", headers=bearer(secret)).status_code == 200
        token_id = listing.split("laptop")[0].split()[-2]
        assert run("tokens", "revoke", "ana", token_id).exit_code == 0
        assert client.get("/api/v1/projects", headers=bearer(secret)).status_code == 401
    assert "no token 999" in run("tokens", "revoke", "ana", "999").output


def test_apply_is_idempotent_and_reports_bad_specs(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "tickets.yaml"
    spec.write_text(SPEC_YAML)
    first = run("projects", "apply", str(spec))
    assert first.exit_code == 0 and "created project tickets" in first.output
    second = run("projects", "apply", str(spec))
    assert second.exit_code == 0 and "unchanged" in second.output
    spec.write_text(SPEC_YAML.replace("overlap: 2", "overlap: 3"))
    assert "updated project tickets" in run("projects", "apply", str(spec)).output

    spec.write_text(SPEC_YAML.replace("min: 1, max: 5", "min: 5, max: 1"))
    bad = run("projects", "apply", str(spec))
    assert bad.exit_code == 2
    assert "tickets.yaml: questions[1].max: must be greater than min (5)" in bad.output
    assert "Traceback" not in bad.output
    listing = run("projects", "list").output
    assert "tickets" in listing and "Tickets" in listing


def test_members(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "tickets.yaml"
    spec.write_text(SPEC_YAML)
    run("projects", "apply", str(spec))
    run("users", "create", "ana", "--password-stdin", input="long password\n")
    assert run("projects", "member", "tickets", "ana", "--role", "reviewer").exit_code == 0
    assert "reviewer" in run("projects", "members", "tickets").output
    assert run("projects", "member", "tickets", "ana").exit_code == 2
    assert run("projects", "member", "tickets", "ana", "--remove").exit_code == 0
    assert "ana" not in run("projects", "members", "tickets").output
    missing = run("projects", "member", "nosuch", "ana", "--role", "viewer")
    assert missing.exit_code == 1 and "project 'nosuch' not found" in missing.output


def _refused(result: Result, code: int = 2) -> str:
    """The command stopped with `code`, no traceback; what it printed, on one line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == code and "Traceback" not in result.output, result.output
    return " ".join(result.output.split())


def test_bad_paths_are_named_not_tracebacks(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "tickets.yaml"
    spec.write_text(SPEC_YAML)
    run("projects", "apply", str(spec))
    nowhere = tmp_path / "no" / "such" / "out.jsonl"
    said = _refused(run("export", "tickets", "-o", str(nowhere)))
    assert said == f"error: {nowhere}: the directory {nowhere.parent} does not exist"
    said = _refused(run("export", "tickets", "-o", str(tmp_path), "--format", "jsonl"))
    assert said == f"error: {tmp_path}: cannot write: Is a directory"
    folder = tmp_path / "labels.csv"
    folder.mkdir()
    said = _refused(run("quality", "agreement", "--input", str(folder), "--metric", "fleiss"))
    assert said == f"error: {folder}: is a directory; expected a .csv or .jsonl file"
    said = _refused(run("projects", "apply", str(tmp_path / "missing.yaml")))
    assert said.endswith("missing.yaml: no such file")


def test_a_database_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    env = {
        "LABELWISE_DATA_DIR": str(tmp_path),
        "LABELWISE_DATABASE_URL": "postgresql+psycopg://lw:secret@127.0.0.1:1/nowhere",
    }
    result = CliRunner().invoke(app, ["users", "list"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(
        "error: cannot open the database postgresql+psycopg://lw:***@127.0.0.1:1/nowhere: "
    )
    assert "secret" not in line
