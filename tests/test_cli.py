"""The `labelwise` command, run in-process on real databases (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from labelwise.app import create_app
from labelwise.cli.common import console
from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.quality import wilson_interval
from labelwise.settings import Settings
from tests.conftest import bearer
from tests.teams import judged_team

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


def test_stats_per_annotator_weighted_vote_and_confusion(  # type: ignore[no-untyped-def]
    run, client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged_team(client, db)
    monkeypatch.setattr(console, "width", 250)
    printed = run("stats", "t")
    assert printed.exit_code == 0, printed.output
    rows = _rows(printed.output)
    # Gold accuracy over the project (one gold item: ana right, ben wrong), with its interval.
    right, wrong = wilson_interval(1, 1), wilson_interval(0, 1)
    assert _row(rows, "ana", "2") == ["ana", "2", "1", f"1.000 [{right.low:.3f}, 1.000]"]
    assert _row(rows, "ben", "2") == ["ben", "2", "1", f"0.000 [0.000, {wrong.high:.3f}]"]
    # Per question: answers, agreement with the majority, gold, with the others, vote weight.
    # ana: against the majority 0 of 2; her weight log 2; span F1 with the others 4/7; her
    # numbers 1.5 from the others' mean (tests/test_quality_report.py has the arithmetic).
    assert _row(rows, "team", "ana")[4:] == [f"1.000 [{right.low:.3f}, 1.000]", "—", "0.693"]
    assert _row(rows, "who", "ana")[2:] == ["2", "—", "—", "span F1 0.571", "—"]
    assert _row(rows, "amount", "ana")[5] == "mean abs. deviation 1.500"
    assert "Dawid-Skene" not in printed.output

    confusion = run("stats", "t", "--confusion").output
    assert "Dawid-Skene: P(answer | true label) of cy on team" in confusion
    assert "of ana on urgency" not in confusion  # nobody answered it

    out = tmp_path / "weighted.jsonl"
    assert run("export", "t", "-o", str(out), "--consensus", "weighted").exit_code == 0
    items = {row["external_id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert items["t-1"]["consensus"]["team"] == {"answer": "tech", "confidence": 1.0}


def _rows(output: str) -> list[list[str]]:
    """The cells of every table row printed."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines()]


def _row(rows: list[list[str]], *first: str) -> list[str]:
    """The one row whose first cells are `first`."""
    (found,) = [row for row in rows if row[: len(first)] == list(first)]
    return found


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
