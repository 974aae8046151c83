"""A release altered in the database: every command that reads it says which release, which
row and what is wrong, in one line, and exits 1; the API answers 500 with the same sentence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner, Result

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.formats.rows import ReleaseRow
from labelwise.policies import Role
from labelwise.services import releases, stored_release
from tests.teams import Team

Run = Callable[..., Result]

# A stored row's JSON replaced: the text written into release_rows.row, and what is said.
ROW_REWRITES = [
    ("5", "the stored row is a number, expected a JSON object"),
    ('"billing"', "the stored row is a string, expected a JSON object"),
    ("[1, 2]", "the stored row is an array, expected a JSON object"),
    ("null", "the stored row is null, expected a JSON object"),
    ('{"id": 2}', "the stored row has other fields than a release row (annotations, answers"),
    ("not json", "the stored row is not JSON"),
]


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    """Three items, each labeled by ann and released as v1."""
    team = Team(client, db, 3)
    team.member("ann")
    for _ in range(3):
        team.label("ann")
    releases.create(db, team.project, "v1", "majority", actor_id=None)
    return team


@pytest.fixture
def run(team: Team, tmp_path: Path) -> Run:
    env = {"LABELWISE_DATABASE_URL": team.db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    return lambda *args: CliRunner().invoke(app, list(args), env=env)


def one_line_error(result: Result) -> str:
    """The command failed with exit code 1 and one line on the terminal, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def alter(team: Team, table: str, column: str, value: str, item: str | None = None) -> None:
    """Set a column behind labelwise's back, as someone with database access would."""
    where = "item_id = :item" if item else "name = 'v1'"
    with team.db.write() as session:
        session.execute(
            text(f"UPDATE {table} SET {column} = {value} WHERE {where}"),
            {"item": team.item(item).id} if item else {},
        )


@pytest.mark.parametrize(("row", "problem"), ROW_REWRITES)
def test_a_row_rewritten_as_another_type_is_named(
    team: Team, run: Run, tmp_path: Path, row: str, problem: str
) -> None:
    with team.db.write() as session:
        session.execute(
            text("UPDATE release_rows SET row = :row WHERE item_id = :item"),
            {"row": row, "item": team.item("t-1").id},
        )
    said = f"release 'v1', item t-1 (#{team.item('t-1').id}): {problem}"
    out = str(tmp_path / "v1.jsonl")
    for command in (
        ("release", "verify", "t", "v1"),
        ("release", "diff", "t", "v1", "v1"),
        ("export", "t", "--release", "v1", "--output", out),
    ):
        assert said in one_line_error(run(*command)), command
    assert not Path(out).exists()
    team.member("olga", Role.OWNER)
    download = team.client.get("/api/v1/projects/t/releases/v1/export", headers=team.auth("olga"))
    assert download.status_code == 500 and said in download.json()["detail"]


@pytest.mark.parametrize(("value", "shown"), [("'oops'", "'oops'"), ("'5'", "5"), ("'[1]'", "[1]")])
def test_a_frozen_spec_rewritten_as_another_type_is_named(
    team: Team, run: Run, value: str, shown: str
) -> None:
    alter(team, "releases", "spec", value)
    said = (
        f"release 'v1': column spec of the releases table holds {shown}, "
        "expected a project spec (a JSON object)"
    )
    for command in (("release", "verify", "t", "v1"), ("release", "card", "t", "v1")):
        assert said in one_line_error(run(*command)), command
    assert said in one_line_error(run("release", "list", "t"))


# PostgreSQL refuses a value of another type in these columns; SQLite keeps what it is given.
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("table", "column", "value", "said"),
    [
        (
            "releases",
            "created_at",
            "'never'",
            "created_at of the releases table holds 'never', expected a date and time",
        ),
        (
            "releases",
            "items",
            "'many'",
            "items of the releases table holds 'many', expected a whole number",
        ),
        (
            "release_rows",
            "row",
            "X'00ff'",
            "item t-1 (#2): column row holds b'\\x00\\xff', expected the row's JSON text",
        ),
        (
            "release_rows",
            "item_id",
            "'abc'",
            "a stored row: column item_id holds 'abc', expected an item id",
        ),
    ],
)
def test_a_column_of_another_type_is_named(
    team: Team, run: Run, table: str, column: str, value: str, said: str
) -> None:
    alter(team, table, column, value, item="t-1" if table == "release_rows" else None)
    assert said in one_line_error(run("release", "verify", "t", "v1"))


def test_a_stored_row_has_exactly_the_fields_of_a_release_row() -> None:
    assert list(stored_release.SHAPES) == list(ReleaseRow._fields)
