"""Model predictions as pre-labels, over real HTTP on both databases: the import, the three
`workflow.prelabels` modes on next and submit, and what each annotation records of them."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc, select, text
from typer.testing import CliRunner

import labelwise
from labelwise.cli.main import app
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Prediction
from labelwise.policies import Role
from labelwise.services.workflow.prelabels import Suggestion, judge
from labelwise.spec import parse_spec
from labelwise.states import PrelabelOutcome
from tests.teams import Team, spec

NDJSON = {"Content-Type": "application/x-ndjson"}
_MIGRATION = Path(labelwise.__file__).parent / "db/migrations/versions/0017_predictions.py"


def _written_outcomes() -> str:
    """The outcomes migration 0017 lets the database hold, as it wrote them."""
    found = importlib.util.spec_from_file_location("predictions_migration", _MIGRATION)
    assert found is not None and found.loader is not None
    migration = importlib.util.module_from_spec(found)
    found.loader.exec_module(migration)
    return str(migration.OUTCOMES)


def ndjson(rows: list[Any]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def team_with(client: TestClient, db: Database, n_items: int = 3, **workflow: Any) -> Team:
    team = Team(client, db, n_items, **workflow)
    team.member("boss", Role.MANAGER)
    team.member("ana")
    return team


def send(team: Team, rows: list[Any], query: str = "") -> Any:
    return team.client.post(
        f"/api/v1/projects/t/predictions{query}",
        content=ndjson(rows),
        headers={**team.auth("boss"), **NDJSON},
    )


def predict(external_id: str, model: str = "router@1", **answers: Any) -> dict[str, Any]:
    return {"id": external_id, "model": model, "answers": answers}


def stored(db: Database) -> list[tuple[str, str, Any]]:
    with db.read() as session:
        rows = session.execute(
            select(Prediction.item_id, Prediction.model, Prediction.answers).order_by(Prediction.id)
        )
        return [(str(item), model, answers) for item, model, answers in rows]


# --- import ---------------------------------------------------------------------------------


def test_import_stores_predictions_and_a_reimport_replaces_them(
    client: TestClient, db: Database
) -> None:
    team = team_with(client, db)
    rows = [
        {**predict("t-0", team="billing", urgency=4), "scores": {"team": 0.9, "urgency": 0.4}},
        {**predict("t-1", team="tech"), "scores": {"team": {"billing": 0.2, "tech": 0.8}}},
    ]
    first = send(team, rows)
    assert first.status_code == 200, first.text
    assert first.json() == {"saved": 2, "replaced": 0, "skipped": []}
    again = send(team, [predict("t-1", team="billing"), predict("t-1", "other@2", team="tech")])
    assert again.json() == {"saved": 2, "replaced": 1, "skipped": []}
    t0, t1 = team.item("t-0").id, team.item("t-1").id
    assert stored(db) == [
        (str(t0), "router@1", {"team": "billing", "urgency": 4}),
        (str(t1), "router@1", {"team": "billing"}),
        (str(t1), "other@2", {"team": "tech"}),
    ]


def test_a_bad_line_is_named_and_nothing_is_imported(client: TestClient, db: Database) -> None:
    team = team_with(client, db)
    cases = [
        (predict("nope", team="billing"), "field 'id': no item with id 'nope' in this project"),
        (predict("t-1", team="sales"), "field 'answers.team: "),
        (predict("t-1", "router", team="tech"), "field 'model': expected name@version"),
        (
            {**predict("t-1", team="tech"), "scores": {"team": 1.5}},
            "field 'scores.team': expected a number from 0 to 1, found 1.5",
        ),
        (
            {**predict("t-1", team="tech"), "scores": {"urgency": 0.5}},
            "field 'scores.urgency': the prediction does not answer that question",
        ),
        ({"id": "t-1", "model": "m@1"}, "field 'answers' is missing"),
    ]
    for bad, message in cases:
        answer = send(team, [predict("t-0", team="billing"), bad])
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert detail.startswith(f"request body, line 2: {message}"), detail
        assert detail.endswith("no prediction was imported")
    assert stored(db) == []


def test_skip_invalid_imports_the_good_lines_and_lists_the_bad(
    client: TestClient, db: Database
) -> None:
    team = team_with(client, db)
    rows = [predict("t-0", team="billing"), predict("gone", team="tech"), predict("t-2", team="x")]
    answer = send(team, rows, "?skip_invalid=true")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["saved"], body["replaced"]) == (1, 0)
    assert [s["line"] for s in body["skipped"]] == [2, 3]
    assert "answers.team" in body["skipped"][1]["error"]
    assert [model for _, model, _ in stored(db)] == ["router@1"]


def test_the_cli_imports_predictions_and_names_a_bad_line(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    team_with(client, db)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(ndjson([predict("t-0", team="billing"), predict("t-1", team="tech")]))
    bad.write_bytes(ndjson([predict("t-2", team="tech"), predict("t-1", urgency=9)]))
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    done = runner.invoke(app, ["predictions", "import", "t", str(good)], env=env)
    assert done.exit_code == 0, done.output
    assert "2 predictions saved (0 replaced), 0 skipped" in done.output
    refused = runner.invoke(app, ["predictions", "import", "t", str(bad)], env=env)
    assert refused.exit_code == 2
    assert "bad.jsonl, line 2: field 'answers.urgency: " in " ".join(refused.output.split())
    assert len(stored(db)) == 2


# --- the prelabels modes -----------------------------------------------------------------------


def test_show_pre_fills_the_latest_models_prediction(client: TestClient, db: Database) -> None:
    team = team_with(client, db, 1)
    send(team, [predict("t-0", "old@1", team="tech")])
    send(team, [{**predict("t-0", "new@2", team="billing"), "scores": {"team": 0.75}}])
    lease = team.next("ana")
    assert lease["suggestion"] == {
        "model": "new@2",
        "answers": {"team": "billing"},
        "scores": {"team": 0.75},
    }
    assert team.next("ana")["suggestion"]["model"] == "new@2"  # the held lease, again
    done = team.submit("ana", lease["assignment_id"], "billing").json()
    assert done["prelabel"] == "accepted" and done["suggestion"] is None


def test_without_predictions_nothing_is_suggested(client: TestClient, db: Database) -> None:
    team = team_with(client, db, 1)
    lease = team.next("ana")
    assert lease["suggestion"] is None
    done = team.submit("ana", lease["assignment_id"]).json()
    assert done["prelabel"] is None
    assert annotation_prelabels(db) == [(None, None, None)]


def test_hide_never_sends_the_prediction(client: TestClient, db: Database) -> None:
    team = team_with(client, db, 1, prelabels="hide")
    send(team, [predict("t-0", team="tech")])
    lease = team.next("ana")
    assert lease["suggestion"] is None
    done = team.submit("ana", lease["assignment_id"], "tech").json()
    assert (done["prelabel"], done["suggestion"]) == (None, None)
    assert annotation_prelabels(db) == [(None, None, None)]


def test_after_submit_shows_it_only_in_the_submits_reply(client: TestClient, db: Database) -> None:
    team = team_with(client, db, 1, prelabels="after_submit")
    send(team, [predict("t-0", team="tech")])
    lease = team.next("ana")
    assert lease["suggestion"] is None
    done = team.submit("ana", lease["assignment_id"], "billing")
    assert done.status_code == 200, done.text
    reply = done.json()
    assert reply["suggestion"] == {"model": "router@1", "answers": {"team": "tech"}, "scores": None}
    assert reply["prelabel"] is None  # answered blind: nothing was accepted or rejected
    again = team.submit("ana", lease["assignment_id"], "billing").json()
    assert again["suggestion"]["model"] == "router@1"  # a retry gets the same reply
    assert annotation_prelabels(db) == [(None, None, None)]


# --- accepted, edited, rejected ----------------------------------------------------------------


def annotation_prelabels(db: Database) -> list[tuple[Any, Any, Any]]:
    with db.read() as session:
        rows = session.execute(
            select(
                Annotation.prelabel_model, Annotation.prelabel_outcome, Annotation.prelabel
            ).order_by(Annotation.id)
        )
        return [tuple(row) for row in rows]


def annotation_sources(db: Database) -> list[tuple[str, Any]]:
    with db.read() as session:
        rows = session.scalars(
            select(AuditEvent.after)
            .where(AuditEvent.action == "annotation.created")
            .order_by(AuditEvent.id)
        )
        return [(after["source"], after.get("prelabel")) for after in rows]


def test_each_annotation_records_what_it_made_of_the_suggestion(
    client: TestClient, db: Database
) -> None:
    team = team_with(client, db, 3)
    send(
        team,
        [
            predict("t-0", team="billing", urgency=2),
            predict("t-1", team="billing", urgency=2),
            predict("t-2", team="billing", urgency=2),
        ],
    )
    given = {"t-0": ("billing", 2), "t-1": ("billing", 5), "t-2": ("tech", 4)}
    for _ in range(3):
        lease = team.next("ana")
        team_answer, urgency = given[lease["item"]["external_id"]]
        done = team.submit("ana", lease["assignment_id"], team_answer, urgency=urgency)
        assert done.status_code == 200, done.text
    rows = annotation_prelabels(db)
    assert [(model, outcome) for model, outcome, _ in rows] == [
        ("router@1", "accepted"),
        ("router@1", "edited"),
        ("router@1", "rejected"),
    ]
    assert rows[1][2] == {
        "team": {
            "outcome": "accepted",
            "predicted": "billing",
            "labels": [["billing", "accepted"]],
        },
        "urgency": {"outcome": "rejected", "predicted": 2, "labels": [["2", "rejected"]]},
    }
    # The suggestion sent back unchanged is the model's answer; any change makes it a person's.
    assert annotation_sources(db) == [
        ("model", {"model": "router@1", "outcome": "accepted"}),
        ("human", {"model": "router@1", "outcome": "edited"}),
        ("human", {"model": "router@1", "outcome": "rejected"}),
    ]


def test_multi_label_and_span_suggestions_can_be_edited() -> None:
    project = spec()
    project["questions"] = [
        {"name": "tags", "type": "multi_label", "labels": ["a", "b", "c"]},
        {"name": "who", "type": "spans", "field": "text", "labels": ["P", "Q"]},
        {"name": "note", "type": "text", "required": False},
    ]
    parsed = parse_spec(project)
    suggestion = Suggestion(
        "m@1",
        {
            "tags": ["a", "b"],
            "who": [{"start": 0, "end": 4, "label": "P"}, {"start": 5, "end": 7, "label": "Q"}],
            "note": "fine",
        },
        None,
    )
    answers = {
        "tags": ["a", "c"],
        "who": [{"start": 0, "end": 3, "label": "P"}],
        "note": "not fine",
    }
    judged = judge(parsed, suggestion, answers)
    assert judged is not None and judged.outcome == "edited"
    assert judged.questions["tags"]["labels"] == [["a", "accepted"], ["b", "rejected"]]
    assert judged.questions["who"]["labels"] == [["P", "edited"], ["Q", "rejected"]]
    assert {name: q["outcome"] for name, q in judged.questions.items()} == {
        "tags": "edited",
        "who": "edited",
        "note": "edited",
    }
    nothing_kept = judge(parsed, suggestion, {"tags": ["c"], "who": []})
    assert nothing_kept is not None and nothing_kept.outcome == "rejected"


# --- the quality report and the dataset card ---------------------------------------------------


def labeled_with_suggestions(client: TestClient, db: Database) -> Team:
    """Four items, two models: ana accepts router@1 on t-0, edits it on t-1 (urgency changed),
    rejects it on t-2; on t-3 she accepts rival@7's suggestion."""
    team = team_with(client, db, 4)
    send(
        team,
        [predict(f"t-{i}", team="billing", urgency=2) for i in range(3)]
        + [predict("t-3", "rival@7", team="tech")],
    )
    given = {"t-0": ("billing", 2), "t-1": ("billing", 5), "t-2": ("tech", 4), "t-3": ("tech", 1)}
    while (lease := team.next("ana")) is not None:
        team_answer, urgency = given[lease["item"]["external_id"]]
        done = team.submit("ana", lease["assignment_id"], team_answer, urgency=urgency)
        assert done.status_code == 200, done.text
    return team


def outcomes(shown: int, accepted: int, edited: int, rejected: int) -> dict[str, Any]:
    return {
        "shown": shown,
        "accepted": accepted,
        "edited": edited,
        "rejected": rejected,
        "acceptance_rate": accepted / shown,
        "edit_rate": edited / shown,
        "rejection_rate": rejected / shown,
    }


def test_the_quality_report_gives_acceptance_per_model_and_label(
    client: TestClient, db: Database
) -> None:
    team = labeled_with_suggestions(client, db)
    report = client.get("/api/v1/projects/t/quality", headers=team.auth("boss"))
    assert report.status_code == 200, report.text
    models = report.json()["prelabels"]
    assert [m["model"] for m in models] == ["rival@7", "router@1"]
    rival, router = models
    assert rival["outcomes"] == outcomes(1, 1, 0, 0)
    assert router["outcomes"] == outcomes(3, 1, 1, 1)
    assert [(row["question"], row["label"], row["outcomes"]) for row in router["labels"]] == [
        ("team", "billing", outcomes(3, 2, 0, 1)),
        ("urgency", "2", outcomes(3, 1, 0, 2)),
    ]


def test_the_dataset_card_gives_acceptance_per_model_and_label(
    client: TestClient, db: Database
) -> None:
    team = labeled_with_suggestions(client, db)
    team.member("olga", Role.OWNER)
    made = team.post("olga", "/api/v1/projects/t/releases", {"name": "v1"})
    assert made.status_code == 201, made.text
    card = client.get("/api/v1/projects/t/releases/v1/card", headers=team.auth("olga")).text
    section = card.split("## Model pre-labels")[1].split("\n## ")[0]
    assert "| rival@7 | 1 | 1 (100%) | 0 (0%) | 0 (0%) |" in section
    assert "| router@1 | 3 | 1 (33%) | 1 (33%) | 1 (33%) |" in section
    assert "| router@1 | team | billing | 3 | 2 (67%) | 0 (0%) | 1 (33%) |" in section
    assert "| router@1 | urgency | 2 | 3 | 1 (33%) | 0 (0%) | 2 (67%) |" in section


def test_a_card_without_suggestions_says_so(client: TestClient, db: Database) -> None:
    team = team_with(client, db, 1)
    team.member("olga", Role.OWNER)
    team.label("ana")
    assert team.post("olga", "/api/v1/projects/t/releases", {"name": "v1"}).status_code == 201
    card = client.get("/api/v1/projects/t/releases/v1/card", headers=team.auth("olga")).text
    assert "## Model pre-labels\n\n_No model suggestions were shown to labelers._" in card


def test_the_database_refuses_an_unknown_outcome(client: TestClient, db: Database) -> None:
    team = team_with(client, db, 1)
    send(team, [predict("t-0", team="billing")])
    team.label("ana", "tech")
    with pytest.raises(exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(text("UPDATE annotations SET prelabel_outcome = 'ignored'"))
    assert annotation_prelabels(db)[0][1] == "rejected"
    written = set(re.findall(r"'(\w+)'", _written_outcomes()))
    assert written == {outcome.value for outcome in PrelabelOutcome}
