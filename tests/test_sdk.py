"""The Python SDK against a real `labelwise serve` on a free port, on both databases."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import datasets
import httpx
import pandas as pd
import polars as pl
import pytest
from sqlalchemy import text

import labelwise
from labelwise import Client, ClientError
from labelwise.client import (
    Agreement,
    Assignment,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Invalid,
    NotFound,
    Progress,
    QualityReport,
    Scorecard,
    SkippedRow,
    Unauthorized,
)
from labelwise.client._rows import ndjson_batches
from labelwise.db.engine import Database
from labelwise.db.models import Base
from labelwise.services.reporting.quality_model import Agreement as ServerAgreement
from labelwise.services.reporting.quality_model import Progress as ServerProgress
from labelwise.services.reporting.quality_model import QualityReport as ServerReport
from labelwise.services.reporting.scorecard_model import Scorecard as ServerScorecard
from tests.conftest import make_token
from tests.test_serve import _free_port, running

SPEC_YAML = """\
name: Tickets
slug: SLUG
guidelines_file: guide.md
fields:
  - {name: text, type: text}
  - {name: channel, type: metadata}
questions:
  - {name: team, type: single_label, labels: [billing, tech]}
workflow: {overlap: 1}
"""


class Server:
    """A served data directory and the tokens of its people: an admin, two annotators."""

    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.url, self.tokens = url, tokens

    def client(self, who: str = "admin") -> Client:
        return Client(self.url, self.tokens[who])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per database for the module (starting one is seconds of CPU): each test
    works in a project of its own."""
    folder = tmp_path_factory.mktemp("sdk")
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), folder / "labelwise.db")
        db = Database(f"sqlite:///{folder / 'labelwise.db'}")
    else:
        db = request.getfixturevalue("pg_database")
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    tokens = {
        "admin": make_token(db, "admin", admin=True),
        "ana": make_token(db, "ana"),
        "bob": make_token(db, "bob"),
    }
    env = {"LABELWISE_DATA_DIR": str(folder / "data"), "LABELWISE_DATABASE_URL": db.url}
    with running("serve", env) as (url, _):
        yield Server(url, tokens)
    if request.param == "sqlite":
        db.dispose()


_slugs = itertools.count(1)


@pytest.fixture
def slug() -> str:
    """A project slug no other test of the module uses."""
    return f"tickets-{next(_slugs)}"


def _items(client: Client, slug: str) -> int:
    return next(p.items for p in client.projects() if p.slug == slug)


def _spec_file(folder: Path, slug: str) -> Path:
    (folder / "guide.md").write_text("# Route tickets\nBilling is money.\n")
    path = folder / "tickets.yaml"
    path.write_text(SPEC_YAML.replace("SLUG", slug))
    return path


def _rows(prefix: str, n: int, start: int = 0) -> list[dict[str, Any]]:
    channels = ["email", "chat"]
    return [
        {"id": f"{prefix}-{i}", "text": f"{prefix} ticket {i}", "channel": channels[i % 2]}
        for i in range(start, start + n)
    ]


def _label_everything(client: Client, slug: str) -> dict[str, str]:
    """Answer every item this caller is given: tickets with an even number go to billing."""
    given: dict[str, str] = {}
    while (assignment := client.next(slug)) is not None:
        assert isinstance(assignment, Assignment) and assignment.kind == "annotate"
        external_id = assignment.item.external_id
        assert external_id is not None and external_id not in given
        team = "billing" if int(external_id.rsplit("-", 1)[1]) % 2 == 0 else "tech"
        submitted = client.submit(assignment, {"team": team}, time_ms=1200)
        assert submitted.item_id == assignment.item.id and submitted.annotation_id is not None
        # A retry of the same submit answers the same annotation.
        again = client.submit(assignment.id, {"team": team}, time_ms=1200)
        assert again.annotation_id == submitted.annotation_id
        given[external_id] = team
    return given


def test_round_trip_from_spec_to_release_dataset(server: Server, slug: str, tmp_path: Path) -> None:
    admin = server.client()
    spec = _spec_file(tmp_path, slug)
    assert admin.apply(spec).created
    again = admin.apply(spec)
    assert (again.created, again.changed) == (False, False)
    guidelines = httpx.get(
        f"{server.url}/api/v1/projects/{slug}/guidelines/current",
        headers={"authorization": f"Bearer {server.tokens['admin']}"},
    ).json()
    assert (
        guidelines["body"].startswith("# Route tickets") and guidelines["note"] == "from guide.md"
    )
    admin.set_member(slug, "ana", "annotator")

    from_dicts = admin.import_items(slug, _rows("d", 3), batch_size=2)
    from_pandas = admin.import_items(slug, pd.DataFrame(_rows("p", 5)), batch_size=2)
    dataset = datasets.Dataset.from_list(_rows("h", 4))
    from_dataset = admin.import_items(slug, dataset, batch_size=3)
    from_polars = admin.import_items(slug, pl.DataFrame(_rows("l", 2)), batch_size=1)
    assert [r.created for r in (from_dicts, from_pandas, from_dataset, from_polars)] == [3, 5, 4, 2]
    repeat = admin.import_items(slug, iter(_rows("d", 3)))
    assert (repeat.created, repeat.existing, repeat.skipped) == (0, 3, [])
    [project] = [p for p in admin.projects() if p.slug == slug]
    assert (project.name, project.items, project.role) == ("Tickets", 14, None)

    with server.client("ana") as ana:
        given = _label_everything(ana, slug)
        card = ana.scorecard(slug, "ana")
    assert len(given) == 14
    assert (card["annotator"], card["annotations"], card["role"]) == ("ana", 14, "annotator")

    frame = admin.export_dataframe(slug)
    assert len(frame) == 14 and set(frame["status"]) == {"done"}
    answers = {
        row.external_id: json.loads(row.annotations)[0]["answers"]["team"]
        for row in frame.itertuples()
    }
    assert answers == given
    streamed = list(admin.export_rows(slug))
    assert {r["external_id"]: r["data"]["text"] for r in streamed}["p-4"] == "p ticket 4"

    release = admin.create_release(slug, "v1")
    assert (release.name, release.items, release.method) == ("v1", 14, "majority")
    assert [r.name for r in admin.releases(slug)] == ["v1"]
    assert "Tickets" in (admin.release(slug, "v1").card or "")
    released = admin.release_dataset(slug, "v1", cache_dir=tmp_path / "hf-cache")
    assert isinstance(released, datasets.Dataset) and released.num_rows == 14
    assert dict(zip(released["external_id"], released["team"], strict=True)) == given
    table = admin.release_dataframe(slug, "v1")
    assert dict(zip(table["external_id"], table["team"], strict=True)) == given
    jsonl = admin.release_to(slug, "v1", tmp_path / "v1.jsonl")
    assert len(jsonl.read_text().splitlines()) == 14
    assert not list(tmp_path.glob(".*.partial"))

    report = admin.quality(slug)
    assert report["progress"]["items"] == 14 and report["progress"]["annotations"] == 14
    assert report["questions"][0]["name"] == "team"


def test_skip_gives_the_item_to_someone_else(server: Server, slug: str) -> None:
    admin = server.client()
    admin.apply(json.loads(json.dumps(_spec_dict(slug))))
    for name in ("ana", "bob"):
        admin.set_member(slug, name, "annotator")
    admin.import_items(slug, _rows("s", 1))
    ana, bob = server.client("ana"), server.client("bob")
    assignment = ana.next(slug)
    assert assignment is not None
    assert bob.next(slug) is None  # leased to ana
    ana.skip(assignment, "not in English")
    assert ana.next(slug) is None  # nobody is given an item they skipped
    taken = bob.next(slug)
    assert taken is not None and taken.item.id == assignment.item.id


def _spec_dict(slug: str) -> dict[str, Any]:
    return {
        "name": "Tickets",
        "slug": slug,
        "fields": [{"name": "text", "type": "text"}],
        "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "tech"]}],
        "workflow": {"overlap": 1},
    }


def test_refusals_raise_errors_with_the_servers_detail(server: Server, slug: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        Client(server.url, "lw_not-a-token").projects()
    assert refused.value.status == 401 and "invalid or revoked API token" in str(refused.value)
    assert isinstance(refused.value, ClientError) and isinstance(
        refused.value, labelwise.ClientError
    )

    admin = server.client()
    bad_spec = {**_spec_dict(slug), "questions": [{"name": "team", "type": "single_label"}]}
    with pytest.raises(Invalid) as invalid:
        admin.apply(bad_spec)
    assert invalid.value.status == 422 and invalid.value.detail == "invalid project spec"
    assert any("questions[0]" in e for e in invalid.value.errors), invalid.value.errors
    with pytest.raises(NotFound):
        admin.import_items("nowhere", _rows("x", 1))

    admin.apply(_spec_dict(slug))
    admin.set_member(slug, "ana", "annotator")
    with pytest.raises(Forbidden) as forbidden:
        server.client("ana").apply(_spec_dict(slug))
    assert forbidden.value.status == 403

    rows = [{"id": "a", "text": "fine"}, {"id": "b"}, {"id": "c", "text": "fine too"}]
    with pytest.raises(Invalid) as bad_row:
        admin.import_items(slug, pd.DataFrame(rows))
    message = str(bad_row.value)
    assert "line 2" in message and "'text'" in message and "nothing was imported" in message
    assert _items(admin, slug) == 0
    partly = admin.import_items(slug, rows, skip_invalid=True)
    assert partly.created == 2 and partly.skipped == [SkippedRow(2, "field 'text' is missing")]

    assignment = server.client("ana").next(slug)
    assert assignment is not None
    with pytest.raises(Invalid) as bad_answer:
        server.client("ana").submit(assignment, {"team": "sales"})
    assert "team" in str(bad_answer.value)

    admin.create_release(slug, "v1")
    with pytest.raises(Conflict):
        admin.create_release(slug, "v1")
    with pytest.raises(NotFound):
        admin.release_dataframe(slug, "v2")


def test_a_spec_file_is_checked_here_before_sending(tmp_path: Path) -> None:
    client = Client("http://127.0.0.1:9", "token")  # nothing is sent
    with pytest.raises(Invalid) as missing:
        client.apply(tmp_path / "absent.yaml")
    assert missing.value.status is None and "absent.yaml: no such file" in str(missing.value)
    spec = tmp_path / "spec.yaml"
    spec.write_text("extends: base.yaml\nslug: t\n")
    with pytest.raises(Invalid, match=r"extends: 'base\.yaml': no such file"):
        client.apply(spec)
    spec.write_text(SPEC_YAML.replace("SLUG", "t"))  # its guidelines_file is missing
    with pytest.raises(Invalid, match=r"guidelines_file: .*guide\.md"):
        client.apply(spec)


def test_a_row_that_cannot_be_sent_names_its_field_and_imports_nothing(
    server: Server, slug: str
) -> None:
    admin = server.client()
    admin.apply(_spec_dict(slug))
    rows = [{"text": "one"}, {"text": "two", "blob": object()}]
    with pytest.raises(Invalid) as unsendable:
        admin.import_items(slug, rows, batch_size=1)
    assert unsendable.value.status is None
    assert "row 2, field 'blob': a value of type object" in str(unsendable.value)
    assert _items(admin, slug) == 0


def test_a_large_import_streams_from_a_generator(server: Server, slug: str) -> None:
    admin = server.client()
    admin.apply(_spec_dict(slug))
    rows = ({"id": i, "text": f"item {i}"} for i in range(30_000))
    assert admin.import_items(slug, rows, batch_size=4_000).created == 30_000
    assert _items(admin, slug) == 30_000


def test_rows_are_converted_one_batch_at_a_time() -> None:
    pulled = itertools.count()

    def endless() -> Iterator[dict[str, Any]]:
        while True:
            yield {"text": f"item {next(pulled)}"}

    first = next(ndjson_batches(endless(), 5))
    assert first.count(b"\n") == 5 and next(pulled) == 5
    frame = pd.DataFrame(
        {
            "text": ["a", None, "c"],
            "n": [0.1 + 0.2, float("nan"), 3.0],
            "k": pd.array([1, None, 3], dtype="Int64"),
            "at": pd.to_datetime(["2024-01-02 03:04", None, "2024-01-03 00:00"]),
        }
    )
    chunks = list(ndjson_batches(frame, 2))
    assert len(chunks) == 2
    assert [json.loads(line) for c in chunks for line in c.splitlines()] == [
        {"text": "a", "n": 0.30000000000000004, "k": 1, "at": "2024-01-02T03:04:00"},
        {"text": None, "n": None, "k": None, "at": None},
        {"text": "c", "n": 3.0, "k": 3, "at": "2024-01-03T00:00:00"},
    ]
    streamed = datasets.Dataset.from_list([{"text": "a"}, {"text": "b"}]).to_iterable_dataset()
    assert b"".join(ndjson_batches(streamed, 1)) == b'{"text":"a"}\n{"text":"b"}\n'
    polars_rows = b"".join(ndjson_batches(pl.DataFrame({"text": ["a", None, "c"]}), 2))
    assert polars_rows == b'{"text":"a"}\n{"text":null}\n{"text":"c"}\n'
    with pytest.raises(Invalid, match="columns named twice: text"):
        list(ndjson_batches(pd.DataFrame([["a", "b"]], columns=["text", "text"]), 2))
    with pytest.raises(Invalid, match="several splits"):
        ndjson_batches(datasets.DatasetDict({"train": datasets.Dataset.from_list([{}])}), 2)
    with pytest.raises(Invalid, match="batch_size"):
        ndjson_batches([], 0)


def test_an_unreachable_server_is_a_connection_error() -> None:
    with pytest.raises(ConnectionFailed) as failed:
        Client(f"http://127.0.0.1:{_free_port()}", "token", timeout=5).projects()
    assert failed.value.status is None and "127.0.0.1" in str(failed.value)


def test_importing_labelwise_stays_light() -> None:
    """The server's and the tables' libraries load only when used."""
    code = (
        "import sys, labelwise; before = set(sys.modules); from labelwise import Client; "
        "heavy = {'fastapi', 'sqlalchemy', 'pydantic', 'numpy', 'pandas', 'pyarrow', "
        "'polars', 'datasets'}; print(sorted('httpx' in before and {'httpx'} or set()), "
        "sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "[]"], out.stdout + out.stderr
    assert set(labelwise.client.__all__) <= set(dir(labelwise.client))


def test_the_report_types_name_the_servers_keys() -> None:
    assert QualityReport.__annotations__.keys() == {f.name for f in fields(ServerReport)}
    assert Progress.__annotations__.keys() == {f.name for f in fields(ServerProgress)}
    assert Agreement.__annotations__.keys() == {f.name for f in fields(ServerAgreement)}
    assert Scorecard.__annotations__.keys() == {f.name for f in fields(ServerScorecard)}
