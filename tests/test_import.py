"""Item import through the service, the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.errors import InvalidInput
from labelwise.formats import FORMATS, format_for_path
from labelwise.policies import Role
from labelwise.services import imports, projects
from labelwise.services.imports import ImportSummary
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token

SPEC: dict[str, Any] = {
    "name": "Tickets",
    "slug": "tickets",
    "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "other"]}],
}
ITEMS: list[dict[str, Any]] = [
    {"id": "t-1", "text": "My invoice is wrong", "channel": "email"},
    {"id": "t-2", "text": "The app crashes", "channel": "chat"},
    {"text": "No id: deduplicated by content", "channel": "phone"},
]


@pytest.fixture
def project(db: Database) -> Project:
    return projects.apply_spec(db, parse_spec(SPEC)).project


def write_items(path: Path, rows: list[dict[str, Any]]) -> Path:
    """`rows` in the format that `path`'s extension names."""
    name = format_for_path(path).name
    if name == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    elif name == "json":
        path.write_text(json.dumps(rows, indent=2))
    elif name == "csv":
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(rows)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def import_file(
    db: Database, project: Project, path: Path, *, skip_invalid: bool = False
) -> ImportSummary:
    fmt = format_for_path(path)
    assert fmt.read is not None
    with path.open("rb") as handle:
        return imports.import_items(
            db,
            project.id,
            projects.spec_of(project),
            fmt.read(handle),
            source=path.name,
            position_name=fmt.position,
            skip_invalid=skip_invalid,
        )


def stored(db: Database, project: Project) -> list[tuple[str | None, dict[str, Any]]]:
    items = projects.page_items(db, project, after=0, limit=1000)
    return [(item.external_id, item.data) for item in items]


def count(db: Database, project: Project) -> int:
    return projects.item_count(db, project)


# --- The service, one format at a time --------------------------------------------------


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".csv", ".parquet"])
def test_each_format_imports_its_items(
    db: Database, project: Project, tmp_path: Path, extension: str
) -> None:
    path = write_items(tmp_path / f"items{extension}", ITEMS)
    summary = import_file(db, project, path)
    assert (summary.created, summary.existing, summary.skipped) == (3, 0, [])
    assert stored(db, project) == [
        ("t-1", {"text": "My invoice is wrong", "channel": "email"}),
        ("t-2", {"text": "The app crashes", "channel": "chat"}),
        (None, {"text": "No id: deduplicated by content", "channel": "phone"}),
    ]


def with_bad_third_row(path: Path) -> tuple[Path, int, str]:
    """A file whose third item lacks its required text: (path, its position, the problem)."""
    rows = [
        {"id": "a", "text": "first"},
        {"id": "b", "text": "second"},
        {"id": "c", "text": None if path.suffix == ".parquet" else ""},
        {"id": "d", "text": "fourth"},
        {"id": "e", "text": 5 if path.suffix == ".json" else None},
    ]
    if path.suffix == ".jsonl":
        path.write_text(
            '{"id": "a", "text": "first"}\n{"id": "b", "text": "second"}\n\n'
            '{"id": "c", "text": "cut\n{"id": "d", "text": "fourth"}\n{"id": "e", "text": 5}\n'
        )
        return path, 4, "invalid JSON at column"
    if path.suffix == ".json":
        write_items(path, rows)
        return path, 10, "field 'text' is missing"
    if path.suffix == ".parquet":
        write_items(path, rows)
        return path, 3, "field 'text' is missing"
    write_items(path, [r | {"text": r["text"] or ""} for r in rows[:4]])
    return path, 4, "field 'text' is missing"


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".csv", ".parquet"])
def test_a_bad_row_fails_the_whole_import(
    db: Database, project: Project, tmp_path: Path, extension: str
) -> None:
    path, position, problem = with_bad_third_row(tmp_path / f"items{extension}")
    with pytest.raises(InvalidInput) as caught:
        import_file(db, project, path)
    where = "row" if extension == ".parquet" else "line"
    message = str(caught.value)
    assert message.startswith(f"items{extension}, {where} {position}: {problem}")
    assert message.endswith("; nothing was imported")
    assert count(db, project) == 0


def test_skip_invalid_imports_the_rest_and_reports_every_bad_line(
    db: Database, project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"id": "1", "text": "good"}\n'
        "not json\n"
        '{"id": "2"}\n'
        '{"id": "3", "text": "good too"}\n'
        '["a list"]\n'
        '{"id": {"x": 1}, "text": "bad id"}\n'
        '{"id": "4", "text": "bad channel", "channel": ["a"]}\n'
        '{"id": "5", "text": 42}\n'
    )
    summary = import_file(db, project, path, skip_invalid=True)
    assert (summary.created, summary.existing) == (2, 0)
    skipped = summary.as_dict()["skipped"]
    assert skipped[0]["line"] == 2 and skipped[0]["error"].startswith("invalid JSON at column 1: ")
    assert skipped[1:] == [
        {"line": 3, "error": "field 'text' is missing"},
        {"line": 5, "error": "expected an object, found a list"},
        {"line": 6, "error": "field 'id': expected a string or an integer, found an object"},
        {"line": 7, "error": "field 'channel': expected a plain value, found a list"},
        {"line": 8, "error": "field 'text': expected a string, found a number"},
    ]
    assert [external_id for external_id, _ in stored(db, project)] == ["1", "3"]


def test_skip_invalid_reports_parquet_rows(db: Database, project: Project, tmp_path: Path) -> None:
    path = write_items(
        tmp_path / "items.parquet",
        [{"text": "a"}, {"text": None}, {"text": "c"}, {"text": None}],
    )
    summary = import_file(db, project, path, skip_invalid=True)
    assert summary.created == 2
    assert summary.as_dict()["skipped"] == [
        {"row": 2, "error": "field 'text' is missing"},
        {"row": 4, "error": "field 'text' is missing"},
    ]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"channel": "email"}, "field 'text' is missing"),
        ({"text": None}, "field 'text' is missing"),
        ({"text": ""}, "field 'text' is missing"),
        ({"text": ["a"]}, "field 'text': expected a string, found a list"),
        ({"text": "x", "id": True}, "field 'id': expected a string or an integer, found a boolean"),
        ({"text": "x", "id": "i" * 256}, "field 'id': longer than 255 characters"),
        ({"text": "x", "channel": {"a": 1}}, "field 'channel': expected a plain value"),
    ],
)
def test_required_fields_and_types(
    db: Database, project: Project, tmp_path: Path, row: dict[str, Any], problem: str
) -> None:
    path = write_items(tmp_path / "items.jsonl", [{"text": "fine"}, row])
    with pytest.raises(InvalidInput, match=f"items.jsonl, line 2: {problem}"):
        import_file(db, project, path)
    assert count(db, project) == 0


def test_optional_metadata_and_extra_keys_are_kept(
    db: Database, project: Project, tmp_path: Path
) -> None:
    rows = [
        {"id": 7, "text": "no channel", "source": {"kind": "crawl"}},
        {"id": " padded ", "text": "number channel", "channel": 3},
    ]
    summary = import_file(db, project, write_items(tmp_path / "items.jsonl", rows))
    assert summary.created == 2
    assert stored(db, project) == [
        ("7", {"text": "no channel", "source": {"kind": "crawl"}}),
        ("padded", {"text": "number channel", "channel": 3}),
    ]


def test_chat_and_pair_fields_from_csv_cells(db: Database, tmp_path: Path) -> None:
    spec = {
        **SPEC,
        "slug": "chats",
        "fields": [{"name": "chat", "type": "chat"}, {"name": "pair", "type": "pair"}],
        "questions": [{"name": "better", "type": "preference"}],
    }
    chats = projects.apply_spec(db, parse_spec(spec)).project
    chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    pair = {"a": "yes", "b": "no"}
    good = {"id": "c1", "chat": json.dumps(chat), "pair": json.dumps(pair)}
    bad = {"id": "c2", "chat": "just text", "pair": json.dumps(pair)}
    path = write_items(tmp_path / "chats.csv", [good, bad])
    summary = import_file(db, chats, path, skip_invalid=True)
    assert summary.created == 1
    assert stored(db, chats) == [("c1", {"chat": chat, "pair": pair})]
    assert summary.skipped[0].position == 3
    assert "field 'chat': expected a list of turns" in summary.skipped[0].message


# --- Idempotence --------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".csv", ".parquet"])
def test_re_import_adds_nothing(
    db: Database, project: Project, tmp_path: Path, extension: str
) -> None:
    path = write_items(tmp_path / f"items{extension}", ITEMS)
    import_file(db, project, path)
    again = import_file(db, project, path)
    assert (again.created, again.existing) == (0, 3)
    assert count(db, project) == 3


def test_rows_without_id_are_deduplicated_by_content(
    db: Database, project: Project, tmp_path: Path
) -> None:
    rows = [
        {"text": "same", "channel": "email"},
        {"channel": "email", "text": "same"},  # the same content, keys in another order
        {"text": "same", "channel": "chat"},  # other content
        {"id": "x", "text": "same", "channel": "email"},  # has an id: its own item
        {"text": "same", "channel": "email"},
    ]
    first = import_file(db, project, write_items(tmp_path / "a.jsonl", rows))
    assert (first.created, first.existing) == (3, 2)
    second = import_file(
        db, project, write_items(tmp_path / "b.jsonl", [{"text": "same", "channel": "chat"}])
    )
    assert (second.created, second.existing) == (0, 1)
    assert count(db, project) == 3


def test_same_id_is_the_same_item_even_with_other_data(
    db: Database, project: Project, tmp_path: Path
) -> None:
    import_file(db, project, write_items(tmp_path / "a.jsonl", [{"id": 5, "text": "first"}]))
    rows = [{"id": "5", "text": "changed"}, {"id": "6", "text": "new"}, {"id": "6", "text": "dup"}]
    summary = import_file(db, project, write_items(tmp_path / "b.jsonl", rows))
    assert (summary.created, summary.existing) == (1, 2)
    assert stored(db, project) == [("5", {"text": "first"}), ("6", {"text": "new"})]


def test_projects_do_not_share_items(db: Database, project: Project, tmp_path: Path) -> None:
    other = projects.apply_spec(db, parse_spec({**SPEC, "slug": "other"})).project
    path = write_items(tmp_path / "items.jsonl", ITEMS)
    assert import_file(db, project, path).created == 3
    assert import_file(db, other, path).created == 3


def test_a_large_import_spans_many_batches(
    db: Database, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 100)
    rows = [{"id": f"r{n}", "text": f"text {n}"} for n in range(1050)]
    calls: list[int] = []
    path = write_items(tmp_path / "items.jsonl", rows)
    reader = FORMATS["jsonl"].read
    assert reader is not None
    with path.open("rb") as handle:
        summary = imports.import_items(
            db,
            project.id,
            projects.spec_of(project),
            reader(handle),
            source=path.name,
            progress=calls.append,
        )
    assert summary.created == 1050
    assert calls == [100] * 10 + [50]
    assert count(db, project) == 1050
    # A failure in a late batch still rolls back the earlier ones.
    path.write_text(path.read_text().replace('"r1040"', '"r1040", "text": 1, "x"'))
    other = projects.apply_spec(db, parse_spec({**SPEC, "slug": "other"})).project
    with pytest.raises(InvalidInput, match="line 1041"):
        import_file(db, other, path)
    assert count(db, other) == 0


def test_batches_are_bounded_by_size_too(
    db: Database, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_BYTES", 10_000)
    rows = [{"id": f"r{n}", "text": "x" * 990} for n in range(25)]  # about 1,000 bytes each
    path = write_items(tmp_path / "items.jsonl", rows)
    calls: list[int] = []
    reader = FORMATS["jsonl"].read
    assert reader is not None
    with path.open("rb") as handle:
        summary = imports.import_items(
            db,
            project.id,
            projects.spec_of(project),
            reader(handle),
            source=path.name,
            progress=calls.append,
        )
    assert summary.created == 25
    assert calls == [10, 10, 5]


# --- Concurrency --------------------------------------------------------------------------


def test_concurrent_overlapping_imports_make_no_duplicates(
    db: Database, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads import overlapping files at once: every item once, counts that add up."""
    monkeypatch.setattr(imports, "BATCH", 50)  # many batches, so the imports interleave
    first = [{"id": f"i{n}", "text": f"item {n}"} for n in range(0, 600)]
    first += [{"text": f"no id {n}"} for n in range(0, 100)]
    second = [{"id": f"i{n}", "text": f"item {n}"} for n in range(300, 900)]
    second += [{"text": f"no id {n}"} for n in range(50, 150)]
    second.reverse()  # the shared keys in the opposite order
    paths = [write_items(tmp_path / f"{i}.jsonl", rows) for i, rows in enumerate([first, second])]
    barrier = threading.Barrier(2)
    results: list[ImportSummary | BaseException] = []

    def run(path: Path) -> None:
        barrier.wait()
        try:
            results.append(import_file(db, project, path))
        except BaseException as error:
            results.append(error)

    threads = [threading.Thread(target=run, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    summaries = [r for r in results if isinstance(r, ImportSummary)]
    assert len(summaries) == 2, results
    assert sum(s.created for s in summaries) == 900 + 150
    assert sum(s.existing for s in summaries) == 300 + 50
    assert count(db, project) == 1050
    keys = {external_id or data["text"] for external_id, data in stored_all(db, project)}
    assert len(keys) == 1050


def stored_all(db: Database, project: Project) -> list[tuple[str | None, dict[str, Any]]]:
    found, after = [], 0
    while page := projects.page_items(db, project, after=after, limit=1000):
        found += [(item.external_id, item.data) for item in page]
        after = page[-1].id
    return found


# --- The API --------------------------------------------------------------------------------


@pytest.fixture
def manager(db: Database, project: Project) -> dict[str, str]:
    token = make_token(db, "mia")
    projects.set_member(db, project, "mia", Role.MANAGER)
    return bearer(token)


URL = "/api/v1/projects/tickets/items"


def test_api_imports_an_ndjson_body(
    client: TestClient, manager: dict[str, str], db: Database, project: Project
) -> None:
    body = "\n".join(json.dumps(row) for row in ITEMS).encode()
    headers = {**manager, "content-type": "application/x-ndjson"}
    answer = client.post(URL, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "created": 3,
        "existing": 0,
        "priority_unchanged": 0,
        "skipped": [],
        "pii": {},
    }
    again = client.post(URL, content=body, headers=headers)
    assert again.json() == {
        "created": 0,
        "existing": 3,
        "priority_unchanged": 0,
        "skipped": [],
        "pii": {},
    }
    assert count(db, project) == 3


def test_api_imports_a_json_list_streamed_in_pieces(
    client: TestClient, manager: dict[str, str], db: Database, project: Project
) -> None:
    body = json.dumps([{"id": f"n{n}", "text": f"item {n}"} for n in range(500)]).encode()

    def pieces() -> Any:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    headers = {**manager, "content-type": "application/json; charset=utf-8"}
    answer = client.post(URL, content=pieces(), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 500
    assert count(db, project) == 500


def test_api_bad_row_is_a_422_and_imports_nothing(
    client: TestClient, manager: dict[str, str], db: Database, project: Project
) -> None:
    body = [{"id": "1", "text": "fine"}, {"id": "2", "txet": "typo"}]
    answer = client.post(URL, json=body, headers=manager)
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "request body, line 1: field 'text' is missing; nothing was imported"
    )
    assert count(db, project) == 0


def test_api_skip_invalid_reports_the_skipped_lines(
    client: TestClient, manager: dict[str, str], db: Database, project: Project
) -> None:
    body = b'{"text": "a"}\n{"text": 1}\n\n{oops}\n{"text": "b"}\n'
    headers = {**manager, "content-type": "application/x-ndjson"}
    answer = client.post(URL, params={"skip_invalid": "true"}, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 2
    assert [(s["line"], s["error"][:25]) for s in answer.json()["skipped"]] == [
        (2, "field 'text': expected a "),
        (4, "invalid JSON at column 2:"),
    ]


def test_api_refuses_an_oversized_body_with_413(
    client: TestClient, manager: dict[str, str], db: Database, project: Project
) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    state.settings = state.settings.model_copy(update={"max_upload_bytes": 1000})
    body = json.dumps([{"text": "x" * 100} for _ in range(20)]).encode()
    headers = {**manager, "content-type": "application/json"}
    answer = client.post(URL, content=body, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["detail"] == f"request body is {len(body)} bytes; the limit is 1000 bytes"

    def chunked() -> Any:  # no Content-Length: the limit is enforced while reading
        yield body[:600]
        yield body[600:]

    answer = client.post(URL, content=chunked(), headers=headers)
    assert answer.status_code == 413
    assert answer.json()["detail"] == "request body is over the limit of 1000 bytes"
    assert count(db, project) == 0
    small = client.post(URL, json=[{"text": "fits"}], headers=manager)
    assert small.status_code == 200 and small.json()["created"] == 1


def test_api_refuses_other_content_types(
    client: TestClient, manager: dict[str, str], db: Database, project: Project
) -> None:
    answer = client.post(
        URL, content=b"text\nhello\n", headers={**manager, "content-type": "text/csv"}
    )
    assert answer.status_code == 415
    assert "Content-Type 'text/csv' is not supported" in answer.json()["detail"]
    assert "application/x-ndjson" in answer.json()["detail"]
    assert count(db, project) == 0


def test_api_import_needs_a_manager(client: TestClient, db: Database, project: Project) -> None:
    token = make_token(db, "ann")
    projects.set_member(db, project, "ann", Role.ANNOTATOR)
    answer = client.post(URL, json=ITEMS, headers=bearer(token))
    assert answer.status_code == 403
    assert count(db, project) == 0


# --- The CLI ----------------------------------------------------------------------------------


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Callable[..., Result]:
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".csv", ".parquet"])
def test_cli_import_each_format(
    run: Callable[..., Result], db: Database, project: Project, tmp_path: Path, extension: str
) -> None:
    path = write_items(tmp_path / f"items{extension}", ITEMS)
    first = run("import", "tickets", str(path))
    assert first.exit_code == 0, first.output
    assert f"items{extension}: 3 new, 0 already present, 0 skipped" in first.output
    again = run("import", "tickets", str(path))
    assert f"items{extension}: 0 new, 3 already present, 0 skipped" in again.output
    assert count(db, project) == 3


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".csv", ".parquet"])
def test_cli_bad_row_names_file_and_position(
    run: Callable[..., Result], db: Database, project: Project, tmp_path: Path, extension: str
) -> None:
    path, position, problem = with_bad_third_row(tmp_path / f"items{extension}")
    result = run("import", "tickets", str(path))
    assert result.exit_code == 2
    where = "row" if extension == ".parquet" else "line"
    output = " ".join(result.output.split())  # rich may wrap long lines
    assert f"error: items{extension}, {where} {position}: {problem}" in output
    assert "nothing was imported" in output
    assert "Traceback" not in result.output
    assert count(db, project) == 0


def test_cli_skip_invalid_lists_each_skipped_line(
    run: Callable[..., Result], db: Database, project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"text": "a"}\n{"txt": "b"}\n{"text": "c"}\n[]\n')
    result = run("import", "tickets", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "skipped items.jsonl, line 2: field 'text' is missing" in result.output
    assert "skipped items.jsonl, line 4: expected an object, found a list" in result.output
    assert "items.jsonl: 2 new, 0 already present, 2 skipped" in result.output
    assert count(db, project) == 2


def test_cli_format_option_and_unknown_extension(
    run: Callable[..., Result], db: Database, project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "items.txt"
    path.write_text(json.dumps(ITEMS[0]) + "\n")
    unknown = run("import", "tickets", str(path))
    assert unknown.exit_code == 2 and "items.txt: unknown file type '.txt'" in unknown.output
    given = run("import", "tickets", str(path), "--format", "jsonl")
    assert given.exit_code == 0 and "1 new" in given.output
    missing = run("import", "nosuch", str(path), "--format", "jsonl")
    assert missing.exit_code == 1 and "project 'nosuch' not found" in missing.output
