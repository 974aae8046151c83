"""Export through the service, the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Project, User
from labelwise.formats import FORMATS, ParsedRow, csvfile, jsonl, parquetfile
from labelwise.policies import EVERYTHING, Role
from labelwise.services import exports, imports, projects
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token

SPEC: dict[str, Any] = {
    "name": "Tickets",
    "slug": "tickets",
    "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
    "questions": [
        {"name": "team", "type": "single_label", "labels": ["billing", "other"]},
        {"name": "urgency", "type": "rating", "min": 1, "max": 5},
    ],
}
FIELDS = ["text", "channel"]
ITEMS: list[dict[str, Any]] = [
    {"id": "t-1", "text": "=cmd|' /C calc'!A0", "channel": "email"},
    {"id": "t-2", "text": 'The app crashes,\nsays "error"', "channel": "chat", "lang": "en"},
    {"text": "No id, no channel"},
]
COLUMNS = [
    "id",
    "external_id",
    "status",
    "text",
    "channel",
    "other_data",
    "annotations",
    "final_answers",
    "discussion",
    "consensus",
]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def add_items(db: Database, project: Project, rows: list[dict[str, Any]]) -> None:
    parsed = [ParsedRow(n, dict(row)) for n, row in enumerate(rows, start=1)]
    imports.import_items(db, project.id, projects.spec_of(project), parsed, source="test")


def item_ids(db: Database, project: Project) -> list[int]:
    return [item.id for item in projects.page_items(db, project, after=0, limit=1000)]


def annotate(
    db: Database,
    project: Project,
    item_id: int,
    username: str,
    guideline_version: int | None = None,
    **answers: Any,
) -> None:
    with db.write() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        session.add(
            Annotation(
                project_id=project.id,
                item_id=item_id,
                user_id=user_id,
                answers=answers,
                time_ms=1500,
                guideline_version=guideline_version,
            )
        )


@pytest.fixture
def project(db: Database) -> Project:
    """Three items; the first annotated by two people (under guideline versions 1 and 2), the
    second by one (before any guidelines)."""
    project = projects.apply_spec(db, parse_spec(SPEC)).project
    add_items(db, project, ITEMS)
    with db.write() as session:  # annotators who never log in: no password to hash
        session.add_all([User(username=name, password_hash="!") for name in ("ana", "ben")])
    first, second, _ = item_ids(db, project)
    annotate(db, project, first, "ana", 1, team="billing", urgency=2)
    annotate(db, project, first, "ben", 2, team="other", urgency=5)
    annotate(db, project, second, "ben", team="other")
    return project


def export_bytes(db: Database, project: Project, fmt: str) -> bytes:
    return b"".join(exports.export(db, project, FIELDS, FORMATS[fmt], view=EVERYTHING))


def check_annotations(
    annotations: list[dict[str, Any]], expected: list[tuple[str, Any, int | None]]
) -> None:
    """Who answered what, under which guideline version (None: before any was published)."""
    found = [(a["annotator"], a["answers"], a["guideline_version"]) for a in annotations]
    assert found == expected
    for annotation in annotations:
        assert annotation["time_ms"] == 1500
        assert ISO.match(annotation["created_at"]) and ISO.match(annotation["updated_at"])


def check_jsonl(body: bytes) -> None:
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [(r["external_id"], r["status"], r["data"]) for r in lines] == [
        ("t-1", "new", {"text": ITEMS[0]["text"], "channel": "email"}),
        ("t-2", "new", {"text": ITEMS[1]["text"], "channel": "chat", "lang": "en"}),
        (None, "new", {"text": "No id, no channel"}),
    ]
    assert lines[0]["id"] < lines[1]["id"] < lines[2]["id"]
    check_annotations(
        lines[0]["annotations"],
        [
            ("ana", {"team": "billing", "urgency": 2}, 1),
            ("ben", {"team": "other", "urgency": 5}, 2),
        ],
    )
    check_annotations(lines[1]["annotations"], [("ben", {"team": "other"}, None)])
    assert lines[2]["annotations"] == []


def check_csv(body: bytes) -> None:
    header, *rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert header == COLUMNS
    table = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["external_id"], r["text"], r["channel"], r["other_data"]) for r in table] == [
        ("t-1", "'" + ITEMS[0]["text"], "email", ""),  # neutralised: it starts with "="
        ("t-2", ITEMS[1]["text"], "chat", '{"lang":"en"}'),
        ("", "No id, no channel", "", ""),
    ]
    check_annotations(
        json.loads(table[0]["annotations"]),
        [
            ("ana", {"team": "billing", "urgency": 2}, 1),
            ("ben", {"team": "other", "urgency": 5}, 2),
        ],
    )
    assert json.loads(table[2]["annotations"]) == []


def read_parquet(body: bytes) -> pa.Table:
    # Not pq.read_table: with pyarrow 26 its dataset thread pools sometimes abort the
    # interpreter at exit ("terminate called without an active exception").
    return pq.ParquetFile(io.BytesIO(body)).read()


def check_parquet(body: bytes) -> None:
    table = read_parquet(body)
    assert table.schema.names == COLUMNS
    assert table.schema.field("id").type == pa.int64()
    assert all(table.schema.field(name).type == pa.string() for name in COLUMNS[1:])
    rows = table.to_pylist()
    assert [(r["external_id"], r["status"], r["text"], r["channel"]) for r in rows] == [
        ("t-1", "new", ITEMS[0]["text"], "email"),  # Parquet is not a spreadsheet: as is
        ("t-2", "new", ITEMS[1]["text"], "chat"),
        (None, "new", "No id, no channel", None),
    ]
    assert json.loads(rows[1]["other_data"]) == {"lang": "en"}
    check_annotations(
        json.loads(rows[0]["annotations"]),
        [
            ("ana", {"team": "billing", "urgency": 2}, 1),
            ("ben", {"team": "other", "urgency": 5}, 2),
        ],
    )
    check_annotations(json.loads(rows[1]["annotations"]), [("ben", {"team": "other"}, None)])


CHECKS: dict[str, Callable[[bytes], None]] = {
    "jsonl": check_jsonl,
    "csv": check_csv,
    "parquet": check_parquet,
}


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_service_exports_items_with_annotations(db: Database, project: Project, fmt: str) -> None:
    CHECKS[fmt](export_bytes(db, project, fmt))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_empty_project(db: Database, fmt: str) -> None:
    empty = projects.apply_spec(db, parse_spec({**SPEC, "slug": "empty"})).project
    body = export_bytes(db, empty, fmt)
    if fmt == "jsonl":
        assert body == b""
    elif fmt == "csv":
        assert body.decode() == ",".join(COLUMNS) + "\r\n"
    else:
        table = read_parquet(body)
        assert table.num_rows == 0 and table.schema.names == COLUMNS


def test_pages_keep_to_the_project_and_carry_their_annotations(
    db: Database, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items of two projects interleaved, pages of two: each item once, with its own notes."""
    monkeypatch.setattr(exports, "PAGE", 2)
    other = projects.apply_spec(db, parse_spec({**SPEC, "slug": "other"})).project
    for n in range(3):
        add_items(db, other, [{"id": f"o-{n}", "text": "other project"}])
        add_items(db, project, [{"id": f"p-{n}", "text": f"more {n}"}])
    ids = item_ids(db, project)
    annotate(db, project, ids[-1], "ana", team="billing")
    lines = [json.loads(line) for line in export_bytes(db, project, "jsonl").splitlines()]
    assert [line["id"] for line in lines] == ids
    assert [line["external_id"] for line in lines] == ["t-1", "t-2", None, "p-0", "p-1", "p-2"]
    assert [len(line["annotations"]) for line in lines] == [2, 1, 0, 0, 0, 1]
    assert lines[-1]["annotations"][0]["answers"] == {"team": "billing"}


def test_export_streams_in_constant_memory(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 items come out in many chunks, and memory never holds them all at once."""
    # Smaller pages, chunks and row groups than in production, to keep the test quick.
    monkeypatch.setattr(exports, "PAGE", 250)
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 1 << 18)
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 1 << 18)
    monkeypatch.setattr(parquetfile, "ROW_GROUP_BYTES", 1 << 18)
    big = projects.apply_spec(db, parse_spec({**SPEC, "slug": "big"})).project
    text = "A fairly long ticket text that repeats itself. " * 6
    add_items(db, big, [{"id": f"b{n}", "text": f"{n} {text}"} for n in range(20_000)])
    stored = 20_000 * len(text)
    for fmt in ("jsonl", "csv", "parquet"):
        output = exports.export(db, big, FIELDS, FORMATS[fmt], view=EVERYTHING)
        size = len(next(output))  # traced from here: the modules a writer imports are loaded
        chunks = 1
        tracemalloc.start()
        for chunk in output:
            chunks += 1
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert chunks >= 4, fmt
        if fmt != "parquet":  # compressed, the Parquet file is smaller than the data
            assert size > stored
        assert peak < stored / 3, (fmt, peak)


# --- The API --------------------------------------------------------------------------------


@pytest.fixture
def viewer(db: Database, project: Project) -> dict[str, str]:
    token = make_token(db, "vic")
    projects.set_member(db, project, "vic", Role.VIEWER)
    return bearer(token)


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("jsonl", "application/x-ndjson"),
        ("csv", "text/csv; charset=utf-8"),
        ("parquet", "application/vnd.apache.parquet"),
    ],
)
def test_api_export(client: TestClient, viewer: dict[str, str], fmt: str, media_type: str) -> None:
    answer = client.get("/api/v1/projects/tickets/export", params={"format": fmt}, headers=viewer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == media_type
    assert answer.headers["content-disposition"] == f'attachment; filename="tickets.{fmt}"'
    CHECKS[fmt](answer.content)


def test_api_export_unknown_format(client: TestClient, viewer: dict[str, str]) -> None:
    answer = client.get("/api/v1/projects/tickets/export?format=xlsx", headers=viewer)
    assert answer.status_code == 422
    assert (
        answer.json()["detail"] == "format 'xlsx' is not supported; use one of jsonl, csv, parquet"
    )


def test_api_export_by_default_is_jsonl(client: TestClient, viewer: dict[str, str]) -> None:
    answer = client.get("/api/v1/projects/tickets/export", headers=viewer)
    check_jsonl(answer.content)


# --- The CLI ----------------------------------------------------------------------------------


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Callable[..., Result]:
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_cli_export(run: Callable[..., Result], project: Project, tmp_path: Path, fmt: str) -> None:
    output = tmp_path / "out" / f"tickets.{fmt}"
    output.parent.mkdir()
    result = run("export", "tickets", "--output", str(output))
    assert result.exit_code == 0, result.output
    said = "".join(result.output.split())  # rich wraps long lines, even inside a path
    assert f"exported3itemsto{output}" in said
    assert [p.name for p in output.parent.iterdir()] == [output.name]  # no .partial left
    CHECKS[fmt](output.read_bytes())


def test_cli_export_format_option_and_errors(
    run: Callable[..., Result], project: Project, tmp_path: Path
) -> None:
    output = tmp_path / "dump.data"
    result = run("export", "tickets", "-o", str(output), "--format", "csv")
    assert result.exit_code == 0, result.output
    check_csv(output.read_bytes())
    as_json = run("export", "tickets", "-o", str(tmp_path / "x.json"))
    assert as_json.exit_code == 2 and "x.json: cannot export as json" in as_json.output
    missing = run("export", "nosuch", "-o", str(tmp_path / "x.jsonl"))
    assert missing.exit_code == 1 and "project 'nosuch' not found" in missing.output
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.jsonl.partial").exists()


def test_cli_export_replaces_an_old_file(
    run: Callable[..., Result], project: Project, tmp_path: Path
) -> None:
    output = tmp_path / "tickets.jsonl"
    output.write_text("stale\n")
    assert run("export", "tickets", "-o", str(output)).exit_code == 0
    check_jsonl(output.read_bytes())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("tickets")] == [output.name]
