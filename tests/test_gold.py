"""Gold questions: setting them, the qualification test, honeypots, gold accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.services import gold
from tests.teams import Team

EXPLAIN = "Money moved: billing."


def _gold(team: Team, external_ids: list[str], label: str = "billing") -> None:
    rows = [{"id": e, "answers": {"team": label}, "explanation": EXPLAIN} for e in external_ids]
    answer = team.post("boss", "/api/v1/projects/t/gold", rows)
    assert answer.status_code == 200 and answer.json() == {"saved": len(rows)}, answer.text


def _team(client: TestClient, db: Database, **quality: object) -> Team:
    team = Team(client, db, 6, quality=quality)
    team.member("boss", Role.MANAGER)
    team.member("ana")
    return team


def test_gold_answers_are_checked_and_only_managers_set_them(
    client: TestClient, db: Database
) -> None:
    team = _team(client, db)
    item_id = team.item("t-0").id
    path = f"/api/v1/projects/t/items/{item_id}/gold"
    bad = team.client.put(path, json={"answers": {"team": "sales"}}, headers=team.auth("boss"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("answers.team:")
    refused = team.client.put(path, json={"answers": {"team": "tech"}}, headers=team.auth("ana"))
    assert refused.status_code == 403
    unknown = team.post("boss", "/api/v1/projects/t/gold", [{"id": "nope", "answers": {}}])
    assert unknown.status_code == 422 and "element 1" in unknown.json()["detail"]
    assert gold.gold_count(db, team.project.id) == 0  # all or nothing
    ok = team.client.put(path, json={"answers": {"team": "tech"}}, headers=team.auth("boss"))
    assert ok.status_code == 204 and gold.gold_count(db, team.project.id) == 1


def test_qualification_comes_first_and_gates_the_work(client: TestClient, db: Database) -> None:
    team = _team(client, db, qualification={"items": 2, "min_accuracy": 1.0})
    team.member("ben")
    _gold(team, ["t-0", "t-1"])
    served = []
    for _ in range(2):
        lease = team.next("ana")
        assert lease["kind"] == "annotate"  # a test item looks like any other
        served.append(lease["item"]["external_id"])
        assert team.submit("ana", lease["assignment_id"], "billing").status_code == 200
    assert served == ["t-0", "t-1"]
    state = team.client.get("/api/v1/projects/t/qualification", headers=team.auth("ana")).json()
    assert state["status"] == "passed" and state["correct"] == 2
    assert [r["explanation"] for r in state["results"]] == [EXPLAIN, EXPLAIN]
    assert team.next("ana")["item"]["external_id"] == "t-2"  # real work, gold excluded

    for _ in range(2):
        team.submit("ben", team.next("ben")["assignment_id"], "tech")
    failed = team.client.get("/api/v1/projects/t/qualification", headers=team.auth("ben")).json()
    assert failed["status"] == "failed" and failed["correct"] == 0
    assert failed["results"][0]["gold"] == {"team": "billing"}
    assert team.next("ben") is None


def test_pending_test_shows_progress_not_answers(client: TestClient, db: Database) -> None:
    team = _team(client, db, qualification={"items": 2, "min_accuracy": 0.5})
    _gold(team, ["t-0", "t-1"])
    team.submit("ana", team.next("ana")["assignment_id"], "billing")
    state = team.client.get("/api/v1/projects/t/qualification", headers=team.auth("ana")).json()
    assert (state["status"], state["answered"], state["results"]) == ("pending", 1, [])


def test_honeypots_are_mixed_in_and_scored(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = _team(client, db, gold_rate=0.5)
    _gold(team, ["t-3"])
    monkeypatch.setattr(gold.random, "random", lambda: 0.0)  # the coin always says "gold"
    first = team.next("ana")
    assert first["item"]["external_id"] == "t-3" and first["kind"] == "annotate"
    result = team.submit("ana", first["assignment_id"], "tech").json()
    assert result["item_status"] == "new"  # a gold item never enters the workflow
    assert team.next("ana")["item"]["external_id"] == "t-0"  # no gold left for ana
    (score,) = gold.accuracy_by_annotator(db, team.project.id)
    assert (score.annotator, score.answered, score.correct) == ("ana", 1, 0)
    assert 0 <= score.low < score.high <= 1


def test_gold_cli(db: Database, client: TestClient, tmp_path: Path) -> None:
    team = _team(client, db)
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path)}
    good = tmp_path / "gold.jsonl"
    good.write_text('{"id": "t-0", "answers": {"team": "billing"}, "explanation": "x"}\n')
    assert runner.invoke(app, ["gold", "import", "t", str(good)], env=env).exit_code == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text() + '{"id": "t-1", "answers": {"team": "sales"}}\n')
    result = runner.invoke(app, ["gold", "import", "t", str(bad)], env=env)
    assert result.exit_code == 2 and "bad.jsonl, line 2: answers.team:" in result.output
    team.submit("ana", team.next("ana")["assignment_id"], "tech")
    table = runner.invoke(app, ["gold", "accuracy", "t"], env=env).output
    assert "ana" not in table  # ana's item was not gold: the queue skips gold items
