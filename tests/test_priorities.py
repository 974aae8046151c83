"""Item priorities: set at import in every format, and in bulk over the API and the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from labelwise.cli.main import app
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import Item
from labelwise.errors import InvalidInput
from labelwise.policies import Role
from labelwise.services import audit, priorities
from tests.teams import Team
from tests.test_import import import_file, write_items

FORMATS = [".jsonl", ".json", ".csv", ".parquet"]
ROWS = [
    {"id": "t-0", "text": "first", "priority": None},  # the first row names Parquet's columns
    {"id": "t-1", "text": "second", "priority": 10},
    {"id": "t-2", "text": "third", "priority": -1.5},
    {"text": "no id", "priority": 3},
]


def _team(client: TestClient, db: Database, n_items: int = 0) -> Team:
    team = Team(client, db, n_items)
    team.member("boss", Role.MANAGER)
    team.member("ana")
    return team


def _order(team: Team) -> list[str | None]:
    """The items in the order ana is served them."""
    served = []
    while (lease := team.next("ana")) is not None:
        served.append(lease["item"]["external_id"])
        team.submit("ana", lease["assignment_id"])
    return served


def _priorities(db: Database) -> dict[str | None, float]:
    with db.read() as session:
        return {e: p for e, p in session.execute(select(Item.external_id, Item.priority))}


@pytest.mark.parametrize("extension", FORMATS)
def test_an_item_imported_with_priority_10_is_served_first(
    client: TestClient, db: Database, tmp_path: Path, extension: str
) -> None:
    team = _team(client, db)
    summary = import_file(db, team.project, write_items(tmp_path / f"items{extension}", ROWS))
    assert (summary.created, summary.priority_unchanged) == (4, 0)
    assert _priorities(db) == {"t-0": 0, "t-1": 10, "t-2": -1.5, None: 3}
    with db.read() as session:
        assert all("priority" not in data for data in session.scalars(select(Item.data)))
    assert _order(team) == ["t-1", None, "t-0", "t-2"]


BAD = [
    ("high", "expected a number, found 'high'"),
    ("nan", "expected a finite number, found nan"),
    ("1e999", "expected a finite number, found 1e999"),
    ("", None),  # an empty cell: the default priority
]


@pytest.mark.parametrize("extension", FORMATS)
@pytest.mark.parametrize(("value", "problem"), BAD)
def test_a_bad_priority_names_the_line_and_the_field(
    client: TestClient,
    db: Database,
    tmp_path: Path,
    extension: str,
    value: str,
    problem: str | None,
) -> None:
    team = _team(client, db)
    rows = [{"id": "a", "text": "x", "priority": "1"}, {"id": "b", "text": "y", "priority": value}]
    path = write_items(tmp_path / f"items{extension}", rows)
    if problem is None:
        assert import_file(db, team.project, path).created == 2
        assert _priorities(db) == {"a": 1, "b": 0}
        return
    line = {".jsonl": 2, ".json": 7, ".csv": 3, ".parquet": 2}[extension]
    where = "row" if extension == ".parquet" else "line"
    expected = f"items{extension}, {where} {line}: field 'priority': {problem}; nothing was"
    with pytest.raises(InvalidInput, match=expected):
        import_file(db, team.project, path)
    assert _priorities(db) == {}


@pytest.mark.parametrize("value", [True, [1], {"p": 1}])
def test_a_priority_must_be_a_number_not_another_json_value(
    client: TestClient, db: Database, tmp_path: Path, value: object
) -> None:
    team = _team(client, db)
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "x", "priority": value}) + "\n")
    with pytest.raises(InvalidInput, match="line 1: field 'priority': expected a number, found"):
        import_file(db, team.project, path)


def test_re_import_keeps_existing_items_and_says_which_priorities_it_left(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    team = _team(client, db)
    import_file(db, team.project, write_items(tmp_path / "a.jsonl", ROWS))
    changed = [{**row, "priority": 7} for row in ROWS[1:]] + [{"id": "t-9", "text": "new"}]
    again = import_file(db, team.project, write_items(tmp_path / "b.jsonl", changed))
    assert (again.created, again.existing, again.priority_unchanged) == (1, 3, 3)
    assert _priorities(db) == {"t-0": 0, "t-1": 10, "t-2": -1.5, None: 3, "t-9": 0}
    same = import_file(db, team.project, write_items(tmp_path / "c.jsonl", ROWS))
    assert (same.existing, same.priority_unchanged) == (4, 0)
    ndjson = "\n".join(json.dumps(row) for row in changed[:1]).encode()
    headers = {**team.auth("boss"), "content-type": "application/x-ndjson"}
    answer = team.client.post("/api/v1/projects/t/items", content=ndjson, headers=headers)
    assert answer.json() == {
        "created": 0,
        "existing": 1,
        "priority_unchanged": 1,
        "skipped": [],
        "pii": {},
    }


def test_the_bulk_endpoint_reorders_the_queue(client: TestClient, db: Database) -> None:
    team = _team(client, db, 4)
    body = [
        {"id": "t-3", "priority": 5},
        {"id": "t-1", "priority": 2.5},
        {"id": "nope", "priority": 9},
        {"id": "t-0", "priority": -1},
    ]
    answer = team.client.put("/api/v1/projects/t/priorities", json=body, headers=team.auth("boss"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"updated": 3, "unknown": ["nope"]}
    assert _order(team) == ["t-3", "t-1", "t-2", "t-0"]
    with db.read() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "items.prioritized")
        ).all()
    pairs = b"".join(orjson.dumps([row["id"], float(row["priority"])]) + b"\n" for row in body)
    assert event.after == {"updated": 3, "unknown": 1, "sha256": hashlib.sha256(pairs).hexdigest()}
    assert audit.verify(db).ok


def test_the_bulk_endpoint_is_all_or_nothing(client: TestClient, db: Database) -> None:
    team = _team(client, db, 2)
    path = "/api/v1/projects/t/priorities"
    twice = [
        {"id": "t-0", "priority": 1},
        {"id": "t-1", "priority": 2},
        {"id": "t-0", "priority": 3},
    ]
    answer = team.client.put(path, json=twice, headers=team.auth("boss"))
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "request body, element 3: id 't-0' is given twice; no priority was changed"
    )
    bad = team.client.put(path, json=[{"id": "t-0", "priority": "x"}], headers=team.auth("boss"))
    assert bad.status_code == 422 and "priority" in bad.text
    assert _priorities(db) == {"t-0": 0, "t-1": 0}
    empty = team.client.put(path, json=[], headers=team.auth("boss"))
    assert empty.json() == {"updated": 0, "unknown": []}


def test_many_batches_in_one_unit_of_work(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = _team(client, db, 250)
    monkeypatch.setattr(priorities, "BATCH", 100)
    body = [{"id": f"t-{n}", "priority": n} for n in range(250)] + [{"id": "t-0", "priority": 1}]
    answer = team.client.put("/api/v1/projects/t/priorities", json=body, headers=team.auth("boss"))
    assert answer.status_code == 422 and "element 251" in answer.text
    assert set(_priorities(db).values()) == {0}  # the first batches were rolled back
    answer = team.client.put(
        "/api/v1/projects/t/priorities", json=body[:-1], headers=team.auth("boss")
    )
    assert answer.json() == {"updated": 250, "unknown": []}
    assert _priorities(db) == {f"t-{n}": n for n in range(250)}


def test_cli_items_priority(client: TestClient, db: Database, tmp_path: Path) -> None:
    team = _team(client, db, 3)
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path)}
    good = tmp_path / "ranking.jsonl"
    good.write_text('{"id": "t-2", "priority": 4}\n{"id": "gone", "priority": 1}\n')
    result = runner.invoke(app, ["items", "priority", "t", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "ranking.jsonl: 1 priorities set, 1 unknown ids" in result.output
    assert "unknown id 'gone'" in result.output
    assert team.next("ana")["item"]["external_id"] == "t-2"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "t-0", "priority": 4}\n{"id": "t-1", "priority": "soon"}\n')
    result = runner.invoke(app, ["items", "priority", "t", str(bad)], env=env)
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert (
        "bad.jsonl, line 2: field 'priority': expected a number, found 'soon'; "
        "no priority was changed" in output
    )
    assert _priorities(db)["t-0"] == 0


def test_cli_import_says_it_left_a_changed_priority(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    _team(client, db, 1)
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path)}
    path = write_items(tmp_path / "again.csv", [{"id": "t-0", "text": "ticket 0", "priority": 2}])
    result = runner.invoke(app, ["import", "t", str(path)], env=env)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "0 new, 1 already present" in output
    assert "1 rows give another priority to an item already there" in output
    assert "labelwise items priority" in output
