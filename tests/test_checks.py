"""Automated checks on work submitted through the API; findings stored and shown."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.services import checks, gold, projects
from labelwise.spec import parse_spec
from tests.teams import Team, spec


def _team(client: TestClient, db: Database, n: int, checks: dict[str, Any]) -> Team:
    team = Team(client, db, n, quality={"checks": checks})
    team.member("boss", Role.MANAGER)
    return team


def _run(team: Team) -> dict[str, Any]:
    answer = team.post("boss", "/api/v1/projects/t/checks/run")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _findings(team: Team) -> list[dict[str, Any]]:
    return list(team.client.get("/api/v1/projects/t/checks", headers=team.auth("boss")).json())


def test_too_fast_by_minimum_sends_items_back_to_review(client: TestClient, db: Database) -> None:
    team = _team(client, db, 3, {"too_fast": {"min_ms": 1000}, "send_to_review": True})
    team.member("ana")
    for ms in (300, 5000, 800):
        lease = team.next("ana")
        body = {"answers": {"team": "billing"}, "time_ms": ms}
        team.post("ana", f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
    result = _run(team)
    assert result["counts"] == {"too_fast": 2} and result["sent_to_review"] == 2
    found = _findings(team)
    assert sorted(f["external_id"] for f in found) == ["t-0", "t-2"]
    assert "300 ms" in found[0]["message"] and found[0]["username"] == "ana"
    assert [team.item(f"t-{i}").status for i in range(3)] == ["in_review", "done", "in_review"]
    assert _run(team)["sent_to_review"] == 0  # already back in review; findings replaced
    assert len(_findings(team)) == 2


def test_an_answer_a_reviewer_judged_is_not_sent_back_again(
    client: TestClient, db: Database
) -> None:
    team = _team(client, db, 2, {"too_fast": {"min_ms": 1000}, "send_to_review": True})
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    for _ in range(2):
        lease = team.next("ana")
        body = {"answers": {"team": "billing"}, "time_ms": 300}
        team.post("ana", f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
    assert _run(team)["sent_to_review"] == 2
    for _ in range(2):
        review = team.next("rev", "review/")
        path = f"/api/v1/assignments/{review['assignment_id']}/verdict"
        assert team.post("rev", path, {"verdict": "accept"}).json()["item_status"] == "done"
    again = _run(team)
    assert again["counts"] == {"too_fast": 2} and again["sent_to_review"] == 0
    assert [team.item(f"t-{i}").status for i in range(2)] == ["done", "done"]


def test_too_fast_by_percentile(client: TestClient, db: Database) -> None:
    team = _team(client, db, 20, {"too_fast": {"percentile": 10}})
    team.member("ana")
    for ms in range(1000, 21000, 1000):
        lease = team.next("ana")
        body = {"answers": {"team": "billing"}, "time_ms": ms}
        team.post("ana", f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
    # The 10th percentile of 1000..20000 (numpy, linear) is 2900 ms: 1000 and 2000 are under.
    assert _run(team)["counts"] == {"too_fast": 2}
    assert "2900 ms" in _findings(team)[0]["message"]


def test_straight_lining(client: TestClient, db: Database) -> None:
    team = _team(client, db, 15, {"straight_lining": {"min_items": 4, "margin": 0.3}})
    answers = {
        "ana": ["billing"] * 5,
        "ben": ["billing", "tech", "billing", "tech", "billing"],
        "cem": ["tech", "billing", "tech", "billing", "tech"],
    }
    for name, labels in answers.items():
        team.member(name)
        for label in labels:
            team.label(name, label)
    assert _run(team)["counts"] == {"straight_lining": 1}
    (finding,) = _findings(team)
    # Everyone: billing 10 of 15 (67%), tech 5 of 15 (33%). ana: billing 100%, +33% > 30%;
    # ben: billing 60%, under 67%; cem: tech 60%, +27%, within the margin.
    assert finding["username"] == "ana" and "100% of 5" in finding["message"]


def test_answers_that_no_longer_fit_a_changed_spec(client: TestClient, db: Database) -> None:
    team = _team(client, db, 2, {})
    team.member("ana")
    team.label("ana", "tech")
    team.label("ana", "billing")
    changed = spec(quality={}, overlap=1)
    changed["questions"][0]["labels"] = ["billing", "technical"]
    projects.apply_spec(db, parse_spec(changed))
    assert _run(team)["counts"] == {"invalid_answers": 1}
    assert _findings(team)[0]["message"].startswith("team: ")


def test_low_gold_accuracy_and_the_cli(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = {"low_gold_accuracy": {"min_accuracy": 0.9}}
    team = Team(client, db, 12, quality={"gold_rate": 0.5, "checks": checks})
    team.member("boss", Role.MANAGER)
    team.member("ana")
    rows = [{"id": f"t-{i}", "answers": {"team": "billing"}} for i in range(10)]
    team.post("boss", "/api/v1/projects/t/gold", rows)
    monkeypatch.setattr(gold.random, "random", lambda: 0.0)  # every item is a honeypot
    for _ in range(10):
        team.submit("ana", team.next("ana")["assignment_id"], "tech")
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path)}
    result = runner.invoke(app, ["checks", "run", "t"], env={**env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # 0 of 10: the Wilson 95% interval is 0%-28%, surely under 90%.
    assert "low_gold_accuracy" in result.output and "0 of 10 gold items right" in result.output


def test_overlapping_runs_store_each_finding_once(client: TestClient, db: Database) -> None:
    team = _team(client, db, 6, {"too_fast": {"min_ms": 1000}})
    team.member("ana")
    for _ in range(6):
        lease = team.next("ana")
        body = {"answers": {"team": "billing"}, "time_ms": 10}
        team.post("ana", f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
    project = projects.get(db, "t")
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        checks.run(db, project)

    workers = [threading.Thread(target=run) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(_findings(team)) == 6
