"""The model backend protocol against a real HTTP model server the test starts: batches, only
what annotators may see, an error per item, timeouts, no private addresses by default, and
the pre-labelling of each item as it is imported."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from labelwise.app import create_app
from labelwise.cli.common import console, err_console
from labelwise.cli.main import app
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import Item, Prediction
from labelwise.errors import InvalidInput
from labelwise.policies import Role
from labelwise.services import imports, model_backend, projects, safe_urls
from labelwise.services.background import Sweeper
from labelwise.settings import ModelLimits, Settings
from labelwise.spec import SpecError, parse_spec
from tests.conftest import bearer, make_token
from tests.teams import spec

SECRET = "customer@example.com"


class Backend(BaseHTTPRequestHandler):
    """Says tech for a crash, billing otherwise; refuses an item about a refund; "slow" waits."""

    batches: ClassVar[list[list[dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self.path == "/slow/predict":
            time.sleep(2)
        if self.path == "/moved/predict":
            self.send_response(307)
            self.send_header("location", "/predict")
            self.end_headers()
            return
        Backend.batches.append(body["items"])
        predictions = []
        for item in body["items"][:-1] if self.path == "/forgetful/predict" else body["items"]:
            text = item["data"]["text"]
            if "refund" in text:
                predictions.append({"id": item["id"], "error": "refunds are not my business"})
            else:
                team = "tech" if "crash" in text else "billing"
                predictions.append(
                    {"id": item["id"], "answers": {"team": team}, "scores": {"team": 0.9}}
                )
        payload = json.dumps({"model": "rules@1", "predictions": predictions}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def model_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    Backend.batches = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def project(db: Database) -> Any:
    raw = spec()
    raw["fields"].append({"name": "email", "type": "text", "visible_to": ["owner"]})
    parsed = parse_spec(raw)
    project = projects.apply_spec(db, parsed).project
    texts = ["app crash", "invoice", "refund please", "crash again", "bill"]
    rows = [
        (n + 1, {"id": f"t-{n}", "text": t, "email": SECRET}, None) for n, t in enumerate(texts)
    ]
    imports.import_items(db, project.id, parsed, rows, source="test")
    return project


def test_a_loopback_backend_is_refused_unless_allowed(
    db: Database, project: Any, model_server: str
) -> None:
    with pytest.raises(
        InvalidInput,
        match=r"/predict: 127\.0\.0\.1 is a private, loopback.*LABELWISE_ALLOW_PRIVATE_URLS",
    ):
        model_backend.fetch(db, project, model_server, limits=ModelLimits(5, allow_private=False))
    assert Backend.batches == []  # nothing was sent


def test_the_connection_itself_goes_only_to_a_public_address(model_server: str) -> None:
    refused = pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1 is a private, loopback")
    with safe_urls.client(timeout=5, allow_private=False) as client, refused:
        client.post(f"{model_server}/predict", json={"items": []})  # past `check`
    assert Backend.batches == []
    body = {"project": "t", "questions": [], "items": []}
    with safe_urls.client(timeout=5, allow_private=True) as client:
        assert client.post(f"{model_server}/predict", json=body).status_code == 200


def test_a_name_rebound_to_loopback_after_the_check_gets_no_connection(
    db: Database, project: Any, model_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DNS answers a public address to the checks (before the fetch, before the request)
    and the loopback one after (rebinding)."""
    port = int(model_server.rsplit(":", 1)[1])
    answers = iter(["93.184.216.34"] * 2)

    def rebinding(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://models.example:{port}"
    fetched = model_backend.fetch(
        db, project, url, batch_size=5, limits=ModelLimits(5, allow_private=False)
    )
    assert Backend.batches == [] and fetched.rows == []
    (failed,) = fetched.failed_batches
    assert "models.example (127.0.0.1) is a private, loopback" in failed, failed


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/",
        "http://169.254.169.254/latest",
        "http://[::1]:8000/",
        "ftp://example.com/",
    ],
)
def test_private_link_local_and_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{re.escape(url)}: "):
        safe_urls.check(url, allow_private=False)


def test_batches_carry_only_what_annotators_see(
    db: Database, project: Any, model_server: str
) -> None:
    fetched = model_backend.fetch(
        db, project, model_server, batch_size=2, limits=ModelLimits(5, allow_private=True)
    )
    assert [len(batch) for batch in Backend.batches] == [2, 2, 1]
    assert SECRET not in json.dumps(Backend.batches) and "email" not in json.dumps(Backend.batches)
    good = {row.value["id"]: row.value for row in fetched.rows if row.error is None}
    assert good["t-0"] == {
        "id": "t-0",
        "model": "rules@1",
        "answers": {"team": "tech"},
        "scores": {"team": 0.9},
    }
    assert good["t-1"]["answers"] == {"team": "billing"} and len(good) == 4
    (refused,) = [row.error for row in fetched.rows if row.error]
    assert refused == "item t-2: the backend says: refunds are not my business"
    assert fetched.failed_batches == []


def test_an_item_left_out_is_named(db: Database, project: Any, model_server: str) -> None:
    fetched = model_backend.fetch(
        db,
        project,
        f"{model_server}/forgetful",
        batch_size=5,
        limits=ModelLimits(5, allow_private=True),
    )
    assert [row.error for row in fetched.rows if row.error] == [
        "item t-2: the backend says: refunds are not my business",
        "item t-4: the backend returned no prediction",
    ]


def test_a_slow_backend_times_out_per_batch(db: Database, project: Any, model_server: str) -> None:
    fetched = model_backend.fetch(
        db,
        project,
        f"{model_server}/slow",
        batch_size=5,
        limits=ModelLimits(0.5, allow_private=True),
    )
    assert fetched.rows == [] and fetched.failed_batches == [
        "items t-0..t-4: no answer within the timeout"
    ]


def test_a_method_keeping_redirect_is_followed(
    db: Database, project: Any, model_server: str
) -> None:
    fetched = model_backend.fetch(
        db,
        project,
        f"{model_server}/moved",
        batch_size=5,
        limits=ModelLimits(5, allow_private=True),
    )
    assert len([row for row in fetched.rows if row.error is None]) == 4


def test_the_api_and_the_cli_store_what_the_backend_predicts(
    db: Database, project: Any, model_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for printer in (console, err_console):  # each message on one line
        monkeypatch.setattr(printer, "width", 240)
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url, allow_private_urls=True)
    token, annotator = make_token(db, "boss"), make_token(db, "ann")
    projects.set_member(db, project, "boss", Role.MANAGER)
    projects.set_member(db, project, "ann", Role.ANNOTATOR)
    with TestClient(create_app(settings, db), base_url="http://testserver") as client:
        body = {"url": model_server, "batch_size": 2}
        answer = client.post(
            "/api/v1/projects/t/predictions/fetch", json=body, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["imported"]["saved"] == 4 and result["failed_batches"] == []
        assert [p["error"] for p in result["imported"]["skipped"]] == [
            "item t-2: the backend says: refunds are not my business"
        ]
        lease = client.post("/api/v1/projects/t/next", headers=bearer(annotator)).json()
        assert lease["item"]["external_id"] == "t-0"
        assert lease["suggestion"]["model"] == "rules@1"
        assert lease["suggestion"]["answers"] == {"team": "tech"}
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    refused = CliRunner().invoke(app, ["predictions", "fetch", "t", model_server], env=env)
    assert refused.exit_code == 2 and "LABELWISE_ALLOW_PRIVATE_URLS" in refused.output, (
        refused.output
    )
    allowed = {**env, "LABELWISE_ALLOW_PRIVATE_URLS": "1"}
    fetched = CliRunner().invoke(
        app, ["predictions", "fetch", "t", model_server, "--all"], env=allowed
    )
    assert fetched.exit_code == 0, fetched.output
    assert "4 predictions saved (4 replaced), 1 items skipped, 0 batches failed" in fetched.output


def _tickets_with_backend(db: Database, url: str, texts: list[str]) -> Any:
    """A project whose spec names the model backend, with `texts` imported as t-0, t-1, ..."""
    parsed = parse_spec(spec(model_backend={"url": url, "batch_size": 2}))
    project = projects.apply_spec(db, parsed).project
    _import(db, project, texts, start=0)
    return project


def _import(db: Database, project: Any, texts: list[str], start: int) -> None:
    rows = [(n + 1, {"id": f"t-{start + n}", "text": t}, None) for n, t in enumerate(texts)]
    imports.import_items(db, project.id, projects.spec_of(project), rows, source="test")


def _predicted(db: Database) -> dict[str, Any]:
    with db.read() as session:
        rows = session.execute(
            select(Item.external_id, Prediction.answers).join(Item, Prediction.item_id == Item.id)
        )
        return {external_id: answers for external_id, answers in rows}


def _sent() -> list[str]:
    return [item["id"] for batch in Backend.batches for item in batch]


def test_the_spec_names_a_backend_by_an_http_url() -> None:
    with pytest.raises(SpecError, match=r"workflow\.model_backend\.url.*'ftp://x/' is not an"):
        parse_spec(spec(model_backend={"url": "ftp://x/"}))
    parsed = parse_spec(spec(model_backend={"url": "https://models.example/v1"}))
    assert parsed.workflow.model_backend is not None
    assert parsed.workflow.model_backend.batch_size == 32


def test_each_new_item_goes_to_the_backend_once_in_the_background(
    db: Database, model_server: str
) -> None:
    project = _tickets_with_backend(db, model_server, ["app crash", "invoice", "refund please"])
    limits = ModelLimits(timeout=5, allow_private=True)
    sweeper = Sweeper(db, limits, clock=lambda: 0.0)  # a run takes no time: no rest after it
    assert sweeper.sweep() == ["t"]
    assert _sent() == ["t-0", "t-1", "t-2"]
    assert _predicted(db) == {"t-0": {"team": "tech"}, "t-1": {"team": "billing"}}
    assert sweeper.sweep() == []  # its own import of the predictions is no new work
    _import(db, project, ["crash on login", "bill twice"], start=3)
    assert sweeper.sweep() == ["t"]
    assert _sent()[3:] == ["t-3", "t-4"]  # the refused t-2 is not asked again
    assert set(_predicted(db)) == {"t-0", "t-1", "t-3", "t-4"}
    _import(db, project, ["crash"], start=5)
    assert Sweeper(db, limits).sweep() == ["t"]  # a restarted process
    assert _sent()[5:] == ["t-2", "t-5"]  # only the items without a prediction


def test_a_refused_backend_is_logged_and_the_other_projects_go_on(
    db: Database, model_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    _tickets_with_backend(db, model_server, ["app crash"])
    raw = spec(quality={"checks": {"too_fast": {"min_ms": 1000}}})
    raw.update(slug="u", name="Other")
    _import(db, projects.apply_spec(db, parse_spec(raw)).project, ["invoice"], start=0)
    assert Sweeper(db).sweep() == ["t", "u"]  # a loopback backend is refused by default
    assert Backend.batches == [] and _predicted(db) == {}
    assert "127.0.0.1 is a private, loopback" in caplog.text
    with db.read() as session:
        runs = select(func.count()).where(AuditEvent.action == "checks.run")
        assert session.scalar(runs) == 1  # project u's checks ran after t failed


def test_items_imported_over_http_arrive_pre_labeled(
    db: Database, model_server: str, tmp_path: Path
) -> None:
    """The whole way a user takes it: a server with its background process, an upload, the
    next item's suggestion."""
    projects.apply_spec(db, parse_spec(spec(model_backend={"url": model_server})))
    settings = Settings(
        data_dir=tmp_path, database_url=db.url, auto_checks_seconds=1, allow_private_urls=True
    )
    token, annotator = make_token(db, "boss"), make_token(db, "ann")
    project = projects.get(db, "t")
    projects.set_member(db, project, "boss", Role.MANAGER)
    projects.set_member(db, project, "ann", Role.ANNOTATOR)
    rows = [{"id": "t-0", "text": "app crash"}, {"id": "t-1", "text": "invoice"}]
    with TestClient(create_app(settings, db), base_url="http://testserver") as client:
        answer = client.post("/api/v1/projects/t/items", json=rows, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 20
        while len(_predicted(db)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _predicted(db) == {"t-0": {"team": "tech"}, "t-1": {"team": "billing"}}
        lease = client.post("/api/v1/projects/t/next", headers=bearer(annotator)).json()
        assert lease["suggestion"]["model"] == "rules@1"
