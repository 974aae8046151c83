"""The workflow's states: one table of moves, enforced by the database, and a repeated submit
that cannot pass for a saved change."""

from __future__ import annotations

import importlib.util
from enum import StrEnum
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc, text

import labelwise
from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.states import (
    TRANSITIONS,
    AssignmentKind,
    AssignmentStatus,
    IllegalTransition,
    ItemStatus,
    ReviewStatus,
    Verdict,
    move,
)
from tests.teams import Team

_MIGRATION = Path(labelwise.__file__).parent / "db/migrations/versions/0010_state_checks.py"
COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("items", "status"): ItemStatus,
    ("assignments", "kind"): AssignmentKind,
    ("assignments", "status"): AssignmentStatus,
    ("annotations", "review_status"): ReviewStatus,
    ("reviews", "verdict"): Verdict,
}


def test_the_migration_checks_exactly_the_states_of_the_code() -> None:
    spec = importlib.util.spec_from_file_location("state_checks", _MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    checked = {(t, c): set(v) for t, cols in migration.CHECKS.items() for c, v in cols.items()}
    assert checked == {key: {m.value for m in state} for key, state in COLUMNS.items()}


def test_every_state_has_its_moves_listed() -> None:
    for state, moves in TRANSITIONS.items():
        assert set(moves) == set(state), state
        assert all(target in state for targets in moves.values() for target in targets)


def test_moves_follow_the_table() -> None:
    assert move("new", ItemStatus.IN_PROGRESS) is ItemStatus.IN_PROGRESS
    assert move(ItemStatus.DONE, ItemStatus.DONE) is ItemStatus.DONE  # staying put
    assert move("submitted", AssignmentStatus.REWORK) is AssignmentStatus.REWORK
    with pytest.raises(IllegalTransition, match="done -> new"):
        move(ItemStatus.DONE, ItemStatus.NEW)
    with pytest.raises(IllegalTransition, match="skipped -> submitted"):
        move("skipped", AssignmentStatus.SUBMITTED)
    with pytest.raises(ValueError):
        move("lost", ItemStatus.DONE)  # not a state at all


def test_the_database_refuses_an_unknown_state(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, review={"policy": "all"})
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    team.label("ana")
    review = team.next("rev", "review/")
    verdict = {"verdict": "accept"}
    path = f"/api/v1/assignments/{review['assignment_id']}/verdict"
    assert team.post("rev", path, verdict).status_code == 200
    for table, column in COLUMNS:
        with pytest.raises(exc.IntegrityError), db.engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))
        with db.engine.connect() as connection:  # nothing was changed
            found = {row[0] for row in connection.execute(text(f"SELECT {column} FROM {table}"))}
        assert found and found <= {m.value for m in COLUMNS[table, column]}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_keeps_its_indexes_as_they_were_through_the_rebuild(db: Database) -> None:
    """The rebuild of migration 0010 keeps partial indexes partial and the queue's order: a
    queue index on `priority` ascending had every next sort a project's items (2 s at 1M)."""
    with db.engine.connect() as connection:
        found = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        rows = {name: sql for name, sql in found}
    assert {name for name, sql in rows.items() if sql and "WHERE" in sql} == {
        "uq_items_project_content",
        "uq_assignments_annotate",
        "ix_assignments_expiry",
        "ix_items_pii",
    }
    assert "priority DESC" in rows["ix_items_queue"]


def test_a_repeated_submit_must_send_what_was_saved(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2, overlap=1)
    team.member("ana")
    lease = team.next("ana")
    first = team.submit("ana", lease["assignment_id"], "billing")
    assert first.status_code == 200
    again = team.submit("ana", lease["assignment_id"], "billing")
    assert again.status_code == 200 and again.json() == first.json()  # the idempotent retry
    other = team.submit("ana", lease["assignment_id"], "tech")
    annotation = first.json()["annotation_id"]
    assert other.status_code == 409
    assert f"annotation {annotation}" in other.json()["detail"]
    assert f"PUT /api/v1/annotations/{annotation}" in other.json()["detail"]
    history = client.get(f"/api/v1/annotations/{annotation}/history", headers=team.auth("ana"))
    assert [r["answers"]["team"] for r in history.json()["revisions"]] == ["billing"]
    edited = client.put(
        f"/api/v1/annotations/{annotation}",
        json={"answers": {"team": "tech"}},
        headers=team.auth("ana"),
    )
    assert edited.status_code == 200 and edited.json()["revision"] == 2  # the way it points to
