"""The ranking question type end to end: the spec, answers submitted over HTTP, the quality
report's Kendall's tau, the Borda consensus in an export, a release and its card.

Three annotators rank three replies on three items (best first):

    r-0: ana a b c   ben a b c   cy a c b    taus 1, 1/3, 1/3       Borda a 6, b 2, c 1
    r-1: ana c b a   ben a b c   cy b a c    taus -1, -1/3, 1/3     Borda b 4, a 3, c 2
    r-2: ana a b c   ben b c a   cy c a b    taus -1/3 each         Borda 3, 3, 3: a tie

(the taus are ana-ben, ana-cy, ben-cy). Mean tau over the nine pairs: (5/3 - 1 - 1) / 9.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelwise.cli.common import console
from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.formats import FORMATS, write_release
from labelwise.policies import EVERYTHING
from labelwise.services import projects, releases
from labelwise.services.reporting.consensus import ItemConsensus, consensus
from labelwise.spec import SpecError, parse_spec
from tests.conftest import bearer, make_token, need

SPEC: dict[str, Any] = {
    "name": "Replies",
    "slug": "replies",
    "fields": [
        {"name": "prompt", "type": "text"},
        {"name": "reply_a", "type": "text", "title": "Reply A"},
        {"name": "reply_b", "type": "markdown", "title": "Reply B"},
        {"name": "reply_c", "type": "text", "title": "Reply C"},
        {"name": "channel", "type": "metadata"},
    ],
    "questions": [
        {"name": "order", "type": "ranking", "responses": ["reply_a", "reply_b", "reply_c"]},
    ],
    "workflow": {"overlap": 3},
    "quality": {"agreement_target": {"metric": "kendall_tau", "min": 0.5}},
}
A, B, C = "reply_a", "reply_b", "reply_c"
RANKED = {
    "ana": {"r-0": [A, B, C], "r-1": [C, B, A], "r-2": [A, B, C]},
    "ben": {"r-0": [A, B, C], "r-1": [A, B, C], "r-2": [B, C, A]},
    "cy": {"r-0": [A, C, B], "r-1": [B, A, C], "r-2": [C, A, B]},
}


class Replies:
    """The project, set up and labeled over HTTP as the UI and scripts do."""

    def __init__(self, client: TestClient, db: Database, **workflow: Any) -> None:
        self.client, self.db = client, db
        admin = bearer(make_token(db, "root", admin=True))
        spec = {**SPEC, "workflow": {**SPEC["workflow"], **workflow}}
        created = client.post("/api/v1/projects", json=spec, headers=admin)
        assert created.status_code in (200, 201), created.text
        self.tokens = {name: make_token(db, name) for name in ("ana", "ben", "cy", "boss")}
        for name in self.tokens:
            role = "owner" if name == "boss" else "annotator"
            answer = client.put(
                f"/api/v1/projects/replies/members/{name}", json={"role": role}, headers=admin
            )
            assert answer.status_code == 200, answer.text
        items = [
            {
                "id": f"r-{i}",
                "prompt": f"question {i}",
                "reply_a": "a",
                "reply_b": "b",
                "reply_c": "c",
                "channel": ["email", "chat"][i % 2],
            }
            for i in range(3)
        ]
        imported = self.post("boss", "/api/v1/projects/replies/items", items)
        assert imported.status_code == 200, imported.text

    def post(self, who: str, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers=bearer(self.tokens[who]))

    def get(self, who: str, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params, headers=bearer(self.tokens[who]))
        assert answer.status_code == 200, answer.text
        return answer

    def lease(self, who: str, queue: str = "") -> dict[str, Any] | None:
        answer = self.post(who, f"/api/v1/projects/replies/{queue}next")
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.status_code == 200 else None

    def submit(self, who: str, assignment_id: int, order: object) -> Any:
        body = {"answers": {"order": order}, "time_ms": 1200}
        return self.post(who, f"/api/v1/assignments/{assignment_id}/submit", body)

    def rank_all(self) -> None:
        for who, given in RANKED.items():
            while (lease := self.lease(who)) is not None:
                done = self.submit(who, lease["assignment_id"], given[lease["item"]["external_id"]])
                assert done.status_code == 200, done.text

    def item_ids(self) -> dict[str, int]:
        listed = self.get("boss", "/api/v1/projects/replies/items").json()
        return {item["external_id"]: item["id"] for item in listed["items"]}


@pytest.fixture
def replies(client: TestClient, db: Database) -> Replies:
    return Replies(client, db)


@pytest.fixture
def ranked(replies: Replies) -> Replies:
    replies.rank_all()
    return replies


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ([A, B], "order: 'reply_c' is not ranked; rank every response"),
        ([A], "order: 'reply_b', 'reply_c' are not ranked; rank every response"),
        ([A, A, B], "order: 'reply_a' is ranked twice; rank each response once"),
        (
            [A, B, "reply_d"],
            "order: 'reply_d' is not a response; responses are reply_a, reply_b, reply_c",
        ),
        (
            A,
            "order: expected a list of the responses best first (reply_a, reply_b, reply_c); "
            "got 'reply_a'",
        ),
        ([0, 1, 2], "order: 0 is not a response; responses are reply_a, reply_b, reply_c"),
    ],
)
def test_a_bad_ranking_is_refused_naming_the_question_and_the_value(
    replies: Replies, order: object, message: str
) -> None:
    lease = replies.lease("ana")
    assert lease is not None
    refused = replies.submit("ana", lease["assignment_id"], order)
    assert refused.status_code == 422
    assert message in refused.text
    # Nothing was stored: the same lease takes a good ranking afterwards.
    assert replies.submit("ana", lease["assignment_id"], [C, A, B]).status_code == 200


def test_a_ranking_is_stored_as_given(replies: Replies) -> None:
    lease = replies.lease("ana")
    assert lease is not None
    answer = replies.submit("ana", lease["assignment_id"], [C, A, B])
    assert answer.status_code == 200, answer.text
    exported = replies.get("boss", "/api/v1/projects/replies/export", format="jsonl").text
    rows = [json.loads(line) for line in exported.splitlines()]
    given = [a["answers"] for row in rows for a in row["annotations"]]
    assert given == [{"order": [C, A, B]}]


def test_the_quality_report_gives_kendalls_tau_and_the_borda_count(ranked: Replies) -> None:
    report = ranked.get("boss", "/api/v1/projects/replies/quality").json()
    (question,) = report["questions"]
    assert (question["type"], question["metric"]) == ("ranking", "kendall_tau")
    assert (question["items"], question["annotations"]) == (3, 9)
    tau = question["agreement"]["kendall_tau"]
    assert tau["value"] == pytest.approx((5 / 3 - 1 - 1) / 9)
    assert tau["low"] <= tau["value"] <= tau["high"]
    # Per reply: how often ranked first (a 3 + 1 + 1), and first by the Borda count.
    assert [(r["label"], r["answers"], r["consensus"]) for r in question["labels"]] == [
        (A, 5, 1),
        (B, 2, 1),
        (C, 2, 0),
    ]
    assert question["consensus"] == {"borda": {"labels": {A: 1, B: 1, C: 0}, "unresolved": 1}}
    # email: r-0 and r-2, (5/3 - 1) / 6; chat: r-1, -1/3.
    slices = {row["value"]: row["agreement"] for row in question["slices"]["channel"]}
    assert slices == {"email": pytest.approx(1 / 9), "chat": pytest.approx(-1 / 3)}
    # ana: (1 + 1/3) + (-1 - 1/3) + (-1/3 - 1/3) over 6 pairs; ben and cy come to 0.
    per_annotator = {
        r["annotator"]: r["agreement"]["kendall_tau"]["value"] for r in question["annotators"]
    }
    assert per_annotator == {
        "ana": pytest.approx(-1 / 9),
        "ben": pytest.approx(0.0),
        "cy": pytest.approx(0.0),
    }
    assert [v["agreement"] for v in question["versions"]] == [pytest.approx((5 / 3 - 2) / 9)]
    # The spec's kendall_tau target is the overall figure, not met.
    assert report["agreement"]["metric"] == "kendall_tau"
    assert report["agreement"]["value"] == pytest.approx(-1 / 27)
    assert (report["agreement"]["met"], question["target_met"]) == (False, False)


def test_the_consensus_is_the_borda_count_and_a_tie_stays_open(ranked: Replies) -> None:
    ids = ranked.item_ids()
    table = consensus(ranked.db, _project_id(ranked), "order")
    # r-0: every annotator's pairs kept but cy's (b, c): (1 + 1 + 1/3) / 3 mean tau.
    assert table[ids["r-0"]] == ItemConsensus(
        [A, B, C], pytest.approx((1 + 7 / 9) / 2), {A: 1.0, B: 0.0, C: 0.0}
    )
    assert table[ids["r-1"]].answer == [B, A, C]
    assert table[ids["r-2"]] == ItemConsensus(None, None, {A: 1 / 3, B: 1 / 3, C: 1 / 3})
    exported = ranked.get(
        "boss", "/api/v1/projects/replies/export", format="jsonl", consensus="majority"
    ).text
    by_item = {
        row["external_id"]: row["consensus"]["order"]
        for row in map(json.loads, exported.splitlines())
    }
    assert by_item["r-1"]["answer"] == [B, A, C]
    assert by_item["r-2"] == {"answer": None, "confidence": None}


def test_a_release_stores_the_borda_ranking(ranked: Replies) -> None:
    created = ranked.post("boss", "/api/v1/projects/replies/releases", {"name": "v1"})
    assert created.status_code == 201, created.text
    jsonl = ranked.get("boss", "/api/v1/projects/replies/releases/v1/export", soft="true").text
    rows = {row["external_id"]: row for row in map(json.loads, jsonl.splitlines())}
    assert rows["r-0"]["answers"] == {"order": [A, B, C]}
    assert rows["r-0"]["sources"] == {"order": "borda"}
    assert rows["r-0"]["probabilities"]["order"] == {A: 1.0, B: 0.0, C: 0.0}
    assert rows["r-2"]["answers"] == {"order": None}
    parquet = ranked.get(
        "boss", "/api/v1/projects/replies/releases/v1/export", format="parquet"
    ).content
    table = pq.read_table(io.BytesIO(parquet))
    assert pa.types.is_list(table.schema.field("order").type)
    assert table.schema.field("order").type.value_type == pa.string()
    assert table.column("order").to_pylist() == [[A, B, C], [B, A, C], None]
    csv_text = ranked.get(
        "boss", "/api/v1/projects/replies/releases/v1/export", format="csv", soft="true"
    ).text
    cells = list(csv.DictReader(io.StringIO(csv_text)))
    assert json.loads(cells[1]["order"]) == [B, A, C]
    assert (cells[2]["order"], cells[2]["order_source"]) == ("", "borda")
    assert float(cells[0]["order_p_reply_a"]) == 1.0
    card = ranked.get("boss", "/api/v1/projects/replies/releases/v1/card").text
    assert "| order | ranking | ranking of reply_a, reply_b, reply_c, best first |" in card
    assert "| order | kendall_tau | -0.037" in card
    assert "1 ranking answers left unresolved (responses tied on Borda points)." in card


def _project_id(replies: Replies) -> int:
    return projects.get(replies.db, "replies").id


def test_the_stats_command_prints_the_ranking_figures(
    ranked: Replies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 240)
    env = {"LABELWISE_DATABASE_URL": ranked.db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    printed = CliRunner().invoke(app, ["stats", "replies"], env=env)
    assert printed.exit_code == 0, printed.output
    assert "Kendall τ (mean of pairs)" in printed.output
    assert "-0.037 [" in printed.output  # the question's tau with its interval
    assert "Kendall τ -0.111" in printed.output  # ana's with the others
    assert "reply_a 1, reply_b 1, reply_c 0" in printed.output  # Borda firsts


def test_a_hugging_face_release_holds_the_ranking_as_class_labels(
    ranked: Replies, tmp_path: Path
) -> None:
    try:
        import datasets
    except ImportError:
        need(False, "datasets is not installed: pip install -e '.[test]'")
    project = projects.get(ranked.db, "replies")
    releases.create(ranked.db, project, "v1", "majority", actor_id=None)
    shape = releases.layout(ranked.db, project, "v1", view=EVERYTHING, soft=True, annotators=True)
    write_release(FORMATS["hf"], releases.rows(ranked.db, project, "v1"), shape, tmp_path / "hf")
    ds = datasets.load_from_disk(str(tmp_path / "hf"))
    order = ds.features["order"].feature
    assert order.names == [A, B, C]
    assert [[order.int2str(i) for i in row] if row else None for row in ds["order"]] == [
        [A, B, C],
        [B, A, C],
        None,
    ]
    assert ds[0]["order_probabilities"] == [1.0, 0.0, 0.0]
    assert ds[1]["annotations"][0]["answers"]["order"] == [2, 1, 0]  # ana: c, b, a


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        (["reply_a", "channel"], "questions[0].responses[1]: 'channel' is a metadata field; "),
        (["reply_a", "reply_z"], "questions[0].responses[1]: no field named 'reply_z'; "),
        (["reply_a"], "questions[0].responses: name at least 2 responses to rank; got 1"),
        (["reply_a", "reply_a"], "questions[0].responses: 'reply_a' is listed twice; "),
        (None, "questions[0].responses: required for a ranking question"),
    ],
)
def test_a_bad_ranking_question_is_refused_with_its_path(
    responses: list[str] | None, message: str
) -> None:
    question = {"name": "order", "type": "ranking", "responses": responses}
    with pytest.raises(SpecError) as refused:
        parse_spec({**SPEC, "questions": [question]})
    assert any(error.startswith(message) for error in refused.value.errors), refused.value.errors


def test_the_spec_keeps_the_responses_and_refuses_them_on_other_types() -> None:
    spec = parse_spec(SPEC)
    assert spec.question("order").canonical()["responses"] == [A, B, C]
    labels = {"name": "order", "type": "single_label", "labels": ["x"], "responses": [A, B]}
    with pytest.raises(
        SpecError, match=r"questions\[0\]\.responses: not allowed for a single_label"
    ):
        parse_spec({**SPEC, "questions": [labels]})


def test_differing_rankings_go_to_adjudication_and_its_ranking_settles_the_item(
    client: TestClient, db: Database
) -> None:
    replies = Replies(client, db, adjudicate="disagreement")
    replies.rank_all()
    report = replies.get("boss", "/api/v1/projects/replies/quality").json()
    assert report["progress"]["by_status"] == {"in_adjudication": 3}  # every item differs
    lease = replies.lease("boss", "adjudication/")
    assert lease is not None
    settled = replies.submit("boss", lease["assignment_id"], [C, B, A])
    assert settled.status_code == 200, settled.text
    item = lease["item"]["id"]
    table = consensus(db, _project_id(replies), "order")
    assert table[item] == ItemConsensus([C, B, A], 1.0, {A: 0.0, B: 0.0, C: 1.0})
