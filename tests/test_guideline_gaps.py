"""The guideline-gaps report over answers given through HTTP: the confused pair, its examples,
the guideline section that names it, and agreement on it per guideline version."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelwise.cli.common import console
from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.services import guidelines
from tests.teams import Team
from tests.test_web import log_in

V1 = "# Billing\nInvoices and refunds are billing.\n"
V2 = V1 + "## Billing or tech?\nA crash while paying is tech, though billing is named.\n"


def _label(team: Team, who: str, teams: list[str]) -> None:
    for label in teams:
        lease = team.next(who)
        assert lease is not None
        assert team.submit(who, lease["assignment_id"], label).status_code == 200


def _acknowledge(team: Team, version: int) -> None:
    for who in ("ana", "ben"):
        body = {"version": version}
        answer = team.post(who, "/api/v1/projects/t/guidelines/acknowledge", body)
        assert answer.status_code == 204, answer.text


def _team(client: TestClient, db: Database) -> Team:
    """Under v1 ana and ben split on t-0 and t-1 and agree on t-2; under v2 they agree on
    t-3 and t-4 (tech) and t-5 (billing)."""
    team = Team(client, db, 6, overlap=2)
    team.member("boss", Role.MANAGER)
    team.member("ana")
    team.member("ben")
    guidelines.publish(db, team.project.id, V1, "first", None)
    _acknowledge(team, 1)
    _label(team, "ana", ["billing", "billing", "tech"])
    _label(team, "ben", ["tech", "tech", "tech"])
    guidelines.publish(db, team.project.id, V2, "billing or tech", None)
    _acknowledge(team, 2)
    _label(team, "ana", ["tech", "tech", "billing"])
    _label(team, "ben", ["tech", "tech", "billing"])
    return team


def test_the_confused_pair_its_section_and_agreement_per_version(
    client: TestClient, db: Database
) -> None:
    team = _team(client, db)
    answer = client.get("/api/v1/projects/t/gaps", headers=team.auth("boss"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["guideline_version"] == 2
    (gap,) = report["gaps"]
    assert gap["question"] == "team" and gap["labels"] == ["billing", "tech"]
    assert gap["disagreements"] == 2 and gap["adjudicated"] == 0 and gap["model_errors"] == 0
    assert gap["examples"] == ["t-0", "t-1"]
    assert gap["guideline_section"] == "Billing or tech?"
    assert gap["by_version"] == [
        {"guideline_version": 1, "answer_pairs": 3, "agreement": 1 / 3},
        {"guideline_version": 2, "answer_pairs": 3, "agreement": 1.0},
    ]


def test_a_pair_no_section_names_is_not_covered(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2, overlap=2)
    team.member("boss", Role.VIEWER)
    team.member("ana")
    team.member("ben")
    _label(team, "ana", ["billing", "billing"])
    _label(team, "ben", ["tech", "billing"])
    (gap,) = client.get("/api/v1/projects/t/gaps", headers=team.auth("boss")).json()["gaps"]
    assert gap["guideline_section"] == "not covered" and gap["by_version"] == [
        {"guideline_version": None, "answer_pairs": 2, "agreement": 0.5}
    ]


def test_the_cli_prints_the_gaps(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _team(client, db)
    monkeypatch.setattr(console, "width", 240)  # the table whole, on one line per pair
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    printed = runner.invoke(app, ["gaps", "t"], env=env)
    assert printed.exit_code == 0, printed.output
    assert "billing / tech" in printed.output and "Billing or tech?" in printed.output
    as_json = runner.invoke(app, ["gaps", "t", "--json"], env=env)
    assert orjson.loads(as_json.output)["gaps"][0]["examples"] == ["t-0", "t-1"]


def test_the_page_shows_the_gap_to_a_viewer(client: TestClient, db: Database) -> None:
    team = _team(client, db)
    team.member("vic", Role.VIEWER)
    log_in(client, "vic")
    page = client.get("/projects/t/gaps")
    assert page.status_code == 200
    assert "billing / tech" in page.text and "Billing or tech?" in page.text
    assert "v1: 33% of 3; v2: 100% of 3" in page.text


def test_a_suggestion_the_labeler_changed_is_a_model_error(
    client: TestClient, db: Database
) -> None:
    team = Team(client, db, 2)
    team.member("boss", Role.MANAGER)
    team.member("ana")
    rows = [{"id": f"t-{i}", "model": "router@1", "answers": {"team": "tech"}} for i in (0, 1)]
    assert team.post("boss", "/api/v1/projects/t/predictions", rows).status_code == 200
    _label(team, "ana", ["billing", "tech"])  # t-0 rejects the suggestion, t-1 accepts it
    (gap,) = client.get("/api/v1/projects/t/gaps", headers=team.auth("boss")).json()["gaps"]
    assert gap["labels"] == ["billing", "tech"] and gap["model_errors"] == 1
    assert gap["disagreements"] == 0 and gap["examples"] == ["t-0"]
