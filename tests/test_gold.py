"""Gold questions: setting them, the qualification test, honeypots, gold accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.services import gold
from labelwise.services.workflow.item_flow import as_if_real
from labelwise.spec import parse_spec
from tests.teams import Team, spec
from tests.test_web import log_in

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
    assert (result["revision"], result["item_status"]) == (1, "done")  # as a real item's
    assert team.item("t-3").status == "new"  # a gold item never enters the workflow
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


# --- a honeypot looks like real work ------------------------------------------------------

_IDS = {
    "assignment_id",
    "annotation_id",
    "item_id",
    "id",
    "external_id",
    "created_at",
    "updated_at",
}


# No prediction in these projects: the replies say no suggestion was shown.
NO_PRELABEL = {"prelabel": None, "suggestion": None}


def _same_shape(value: object) -> object:
    """A reply with what differs between any two items (ids, times) left out."""
    if isinstance(value, dict):
        return {k: _same_shape(v) for k, v in value.items() if k not in _IDS}
    if isinstance(value, list):
        return [_same_shape(v) for v in value]
    return value


def _seen_by_ana(team: Team, item_id: int, annotation_id: int) -> dict[str, Any]:
    """Everything ana can read about an item she answered, with her edit's reply."""
    get = team.client.get
    detail = get(f"/api/v1/projects/t/items/{item_id}", headers=team.auth("ana")).json()
    history = get(f"/api/v1/annotations/{annotation_id}/history", headers=team.auth("ana"))
    page = get(f"/projects/t/items/{item_id}").text  # ana's browser session
    edit = team.client.put(
        f"/api/v1/annotations/{annotation_id}",
        json={"answers": {"team": "tech"}},
        headers=team.auth("ana"),
    )
    assert edit.status_code == 200, edit.text
    return {
        "detail": {k: v for k, v in detail.items() if k != "data"},
        "history": history.json(),
        "page status": page.split('class="status status-', 1)[1].split('"', 1)[0],
        "edit": edit.json(),
    }


@pytest.mark.parametrize(
    ("review", "status"), [({"policy": "none"}, "done"), ({"policy": "all"}, "in_review")]
)
def test_a_honeypot_answers_like_a_real_item(
    client: TestClient,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    review: dict[str, str],
    status: str,
) -> None:
    team = Team(client, db, 4, quality={"gold_rate": 0.5}, review=review)
    team.member("boss", Role.MANAGER)
    team.member("ana")
    _gold(team, ["t-3"])
    monkeypatch.setattr(gold.random, "random", lambda: 0.0)  # gold whenever there is one
    log_in(client, "ana")
    seen = []
    for external_id in ("t-3", "t-0"):  # the honeypot, then a real item
        lease = team.next("ana")
        assert lease["item"]["external_id"] == external_id and lease["kind"] == "annotate"
        reply = team.submit("ana", lease["assignment_id"])
        retry = team.submit("ana", lease["assignment_id"])
        assert reply.status_code == retry.status_code == 200
        assert reply.json() == retry.json()
        assert _same_shape(reply.json()) == {"revision": 1, "item_status": status, **NO_PRELABEL}
        ids = reply.json()["item_id"], reply.json()["annotation_id"]
        seen.append(_seen_by_ana(team, *ids))
    assert _same_shape(seen[0]) == _same_shape(seen[1])
    assert seen[0]["page status"] == seen[0]["detail"]["status"] == status
    assert _same_shape(seen[0]["edit"]) == {"revision": 2, "item_status": status, **NO_PRELABEL}
    feedback = team.client.get("/api/v1/projects/t/feedback", headers=team.auth("ana")).json()
    assert feedback == {"reviews": [], "escalations": []}


def test_a_honeypot_tells_each_annotator_one_status(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At an overlap of 2 a real item is in progress after one submit, or done after the
    second; a gold item says one of these, the same in every reply, before and after."""
    team = Team(client, db, 2, overlap=2, quality={"gold_rate": 0.5})
    team.member("boss", Role.MANAGER)
    team.member("ana")
    _gold(team, ["t-1"])
    monkeypatch.setattr(gold.random, "random", lambda: 0.0)
    lease = team.next("ana")
    item_id = lease["item"]["id"]
    path = f"/api/v1/projects/t/items/{item_id}"
    held = team.client.get(path, headers=team.auth("ana")).json()
    assert held["status"] == "in_progress"  # as a real item with ana's lease on it
    reply = team.submit("ana", lease["assignment_id"]).json()
    assert reply["item_status"] in ("in_progress", "done") and reply["revision"] == 1
    after = team.client.get(path, headers=team.auth("ana")).json()
    assert after["status"] == reply["item_status"]
    manager_view = team.client.get(path, headers=team.auth("boss")).json()
    assert manager_view["status"] == "new"  # those who set gold see where it really is


def test_the_status_a_honeypot_shows_is_drawn_as_real_items_fall() -> None:
    """Over many gold items, the shares of each status are a real item's after one submit."""
    overlap_3 = parse_spec(spec(overlap=3, review={"policy": "random", "rate": 0.5}))
    shown = [as_if_real(overlap_3, 1, item, 7) for item in range(3000)]
    assert 0.62 < shown.count("in_progress") / len(shown) < 0.71  # 2 in 3
    completed = [s for s in shown if s != "in_progress"]
    assert 0.44 < completed.count("in_review") / len(completed) < 0.56
    assert set(shown) == {"in_progress", "in_review", "done"}
    single = parse_spec(spec())
    assert {as_if_real(single, 1, item, 7) for item in range(100)} == {"done"}


def test_progress_counts_gold_items_apart_except_to_annotators(
    client: TestClient, db: Database
) -> None:
    """Gold items stay new, so counted as new no project would ever be done."""
    team = _team(client, db)
    _gold(team, ["t-4", "t-5"])
    for _ in range(4):
        lease = team.next("ana")
        assert team.submit("ana", lease["assignment_id"], "billing").status_code == 200
    managed = team.client.get("/api/v1/projects/t", headers=team.auth("boss")).json()
    assert (managed["items"], managed["by_status"]) == (6, {"done": 4, "gold": 2})
    report = team.client.get("/api/v1/projects/t/quality", headers=team.auth("boss")).json()
    assert report["progress"]["by_status"] == {"done": 4, "gold": 2}
    dashboard = team.client.get("/api/v1/projects/t/dashboard", headers=team.auth("boss"))
    assert dashboard.json()["work"]["by_status"] == {"done": 4, "gold": 2}
    seen = team.client.get("/api/v1/projects/t", headers=team.auth("ana")).json()
    assert seen["by_status"] == {"done": 4, "new": 2}  # no honeypot count to an annotator
    log_in(client, "boss")
    page = client.get("/projects/t").text
    assert "4 of 4 done · gold 2" in page and 'max="4" value="4"' in page
