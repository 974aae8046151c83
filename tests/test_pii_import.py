"""PII detection through real imports, over the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.policies import Role
from labelwise.services import gold, imports, projects
from labelwise.settings import PII_KEY_FILE, Settings
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token
from tests.test_web import log_in


def spec(slug: str, mode: str | None, **pii: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "name": slug,
        "slug": slug,
        "fields": [{"name": "text", "type": "text"}, {"name": "contact", "type": "metadata"}],
        "questions": [
            {"name": "team", "type": "single_label", "labels": ["billing", "other"]},
            {"name": "marks", "type": "spans", "field": "text", "labels": ["EMAIL", "OTHER"]},
        ],
    }
    if mode is not None:
        made["privacy"] = {"pii": {"fields": ["text", "contact"], "mode": mode, **pii}}
    return made


ROWS = [
    {"id": "t-1", "text": "Mail ana@example.org or call +44 20 7946 0958", "contact": "web"},
    {"id": "t-2", "text": "Refund please", "contact": "DE89 3704 0044 0532 0130 00"},
    {"id": "t-3", "text": "Order 123456 is late (ticket 7)", "contact": "phone"},
]
FOUND = {"text": {"email": 1, "phone": 1}, "contact": {"iban": 1}}
TOKEN = re.compile(r"<[A-Z_]+_[0-9a-f]{16}>")


def make(db: Database, slug: str, mode: str | None, **pii: Any) -> Project:
    return projects.apply_spec(db, parse_spec(spec(slug, mode, **pii))).project


def manager_of(db: Database, *slugs: str) -> dict[str, str]:
    token = make_token(db, "mia")
    for slug in slugs:
        projects.set_member(db, projects.get(db, slug), "mia", Role.MANAGER)
    return bearer(token)


def post(client: TestClient, headers: dict[str, str], slug: str, rows: list[Any]) -> Any:
    body = "\n".join(json.dumps(row) for row in rows)
    answer = client.post(
        f"/api/v1/projects/{slug}/items",
        content=body,
        headers={**headers, "content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def listed(client: TestClient, headers: dict[str, str], slug: str, query: str = "") -> list[Any]:
    answer = client.get(f"/api/v1/projects/{slug}/items{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def data_of(items: list[Any]) -> dict[str, Any]:
    return {item["external_id"]: item["data"] for item in items}


@pytest.fixture
def run(db: Database, settings: Settings) -> Callable[..., Result]:
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(settings.data_dir)}

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# --- the modes, end to end ------------------------------------------------------------------


def test_api_import_masks_reports_and_marks_each_item(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make(db, "masked", "mask")
    manager = manager_of(db, "masked")
    answer = post(client, manager, "masked", ROWS)
    assert answer["created"] == 3 and answer["pii"] == FOUND
    items = listed(client, manager, "masked")
    assert data_of(items) == {
        "t-1": {"text": "Mail [EMAIL] or call [PHONE]", "contact": "web"},
        "t-2": {"text": "Refund please", "contact": "[IBAN]"},
        "t-3": {"text": "Order 123456 is late (ticket 7)", "contact": "phone"},
    }
    assert {item["external_id"]: item["pii"] for item in items} == {
        "t-1": {"text": {"email": 1, "phone": 1}},
        "t-2": {"contact": {"iban": 1}},
        "t-3": None,
    }
    marked = listed(client, manager, "masked", "?pii=true")
    assert [item["external_id"] for item in marked] == ["t-1", "t-2"]
    assert [item["external_id"] for item in listed(client, manager, "masked", "?pii=false")] == [
        "t-3"
    ]
    # Masking keys its content hashes: the key file is made on that first use, owner-only.
    assert (settings.data_dir / PII_KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_pseudonymised_tokens_hold_across_imports_api_and_cli_but_not_across_projects(
    client: TestClient,
    db: Database,
    settings: Settings,
    run: Callable[..., Result],
    tmp_path: Path,
) -> None:
    make(db, "alpha", "pseudonymise")
    make(db, "beta", "pseudonymise")
    manager = manager_of(db, "alpha", "beta")
    first = post(client, manager, "alpha", [{"id": "a-1", "text": "from ana@example.org"}])
    assert first["pii"] == {"text": {"email": 1}}
    key = (settings.data_dir / PII_KEY_FILE).read_bytes()
    assert (settings.data_dir / PII_KEY_FILE).stat().st_mode & 0o777 == 0o600
    rows = [{"id": "a-2", "text": "again ANA@example.org, +44 20 7946 0958"}]
    result = run("import", "alpha", str(write_jsonl(tmp_path / "more.jsonl", rows)))
    assert result.exit_code == 0, result.output
    assert "PII in text (pseudonymised): 1 email, 1 phone" in result.output
    post(client, manager, "beta", [{"id": "b-1", "text": "from ana@example.org"}])

    alpha = data_of(listed(client, manager, "alpha"))
    (token,) = TOKEN.findall(alpha["a-1"]["text"])
    assert alpha["a-1"]["text"] == f"from {token}" and token.startswith("<EMAIL_")
    again, phone = TOKEN.findall(alpha["a-2"]["text"])
    assert again == token and phone.startswith("<PHONE_")
    assert "ana" not in json.dumps(alpha).lower()
    (elsewhere,) = TOKEN.findall(data_of(listed(client, manager, "beta"))["b-1"]["text"])
    assert elsewhere.startswith("<EMAIL_") and elsewhere != token
    assert (settings.data_dir / PII_KEY_FILE).read_bytes() == key  # made once, then reused


def test_cli_flag_keeps_the_text_marks_the_items_and_prints_the_report(
    client: TestClient,
    db: Database,
    settings: Settings,
    run: Callable[..., Result],
    tmp_path: Path,
) -> None:
    make(db, "flagged", "flag", detect=["email", "iban", "ip"])
    manager = manager_of(db, "flagged")
    rows = [*ROWS, {"id": "t-4", "text": "from 10.0.0.7 and fe80::1", "contact": "x"}]
    result = run("import", "flagged", str(write_jsonl(tmp_path / "items.jsonl", rows)))
    assert result.exit_code == 0, result.output
    assert "items.jsonl: 4 new, 0 already present, 0 skipped" in result.output
    assert "PII in text (flagged): 1 email, 2 ip" in result.output
    assert "PII in contact (flagged): 1 iban" in result.output
    assert "phone" not in result.output  # not asked for
    items = listed(client, manager, "flagged")
    assert data_of(items) == {
        row["id"]: {k: v for k, v in row.items() if k != "id"} for row in rows
    }
    marked = listed(client, manager, "flagged", "?pii=true")
    assert {item["external_id"]: item["pii"] for item in marked} == {
        "t-1": {"text": {"email": 1}},
        "t-2": {"contact": {"iban": 1}},
        "t-4": {"text": {"ip": 2}},
    }
    assert not (settings.data_dir / PII_KEY_FILE).exists()  # flagging needs no key


def test_the_browser_upload_masks_and_reports(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make(db, "web", "mask")
    manager = manager_of(db, "web")
    csrf = log_in(client, "mia")
    rows = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
    upload = {"file": ("items.jsonl", rows, "application/x-ndjson")}
    answer = client.post("/projects/web/import", data={"csrf_token": csrf}, files=upload)
    assert answer.status_code == 200, answer.text
    assert "3 new, 0 already present" in answer.text
    assert "PII in text: 1 email, 1 phone" in answer.text
    assert "PII in contact: 1 iban" in answer.text
    texts = data_of(listed(client, manager, "web"))
    assert texts["t-1"]["text"] == "Mail [EMAIL] or call [PHONE]"
    assert (settings.data_dir / PII_KEY_FILE).exists()
    browsed = client.get("/projects/web/items?pii=true")
    assert browsed.status_code == 200, browsed.text
    assert "t-1" in browsed.text and "t-2" in browsed.text and "t-3" not in browsed.text
    assert 'title="text: email, phone">PII</span>' in browsed.text
    assert "t-3" in client.get("/projects/web/items?pii=false").text


def test_rows_differing_only_in_their_pii_stay_two_items_and_a_reimport_adds_none(
    client: TestClient, db: Database
) -> None:
    make(db, "noids", "mask")
    manager = manager_of(db, "noids")
    rows = [{"text": "Contact ana@example.org"}, {"text": "Contact ben@example.org"}]
    first = post(client, manager, "noids", rows)
    assert (first["created"], first["existing"]) == (2, 0)
    again = post(client, manager, "noids", rows)
    assert (again["created"], again["existing"]) == (0, 2)
    assert again["pii"] == {"text": {"email": 2}}  # found in the rows, though none was new
    texts = [item["data"]["text"] for item in listed(client, manager, "noids")]
    assert texts == ["Contact [EMAIL]", "Contact [EMAIL]"]


def test_items_imported_before_the_rule_stay_as_they_were(client: TestClient, db: Database) -> None:
    make(db, "later", None)
    manager = manager_of(db, "later")
    assert post(client, manager, "later", ROWS[:1])["pii"] == {}
    make(db, "later", "mask")
    post(client, manager, "later", [{"id": "t-9", "text": "from ana@example.org"}])
    items = data_of(listed(client, manager, "later"))
    assert items["t-1"]["text"] == ROWS[0]["text"]
    assert items["t-9"]["text"] == "from [EMAIL]"
    assert [item["external_id"] for item in listed(client, manager, "later", "?pii=true")] == [
        "t-9"
    ]


# --- spans and the stored text --------------------------------------------------------------


def test_gold_spans_are_offsets_into_the_masked_text(db: Database) -> None:
    project = make(db, "spans", "mask")
    rows = [{"id": "s-1", "text": "Mail ana@example.org now"}]
    parsed = projects.spec_of(project)
    imports.import_items(
        db,
        project.id,
        parsed,
        (ParsedRow(n, dict(row)) for n, row in enumerate(rows, 1)),
        source="t",
        pii_key=lambda: b"k" * 32,
    )
    stored = "Mail [EMAIL] now"
    good = {"id": "s-1", "answers": {"marks": [{"start": 5, "end": 12, "label": "EMAIL"}]}}
    assert gold.import_gold(db, project.id, parsed, [ParsedRow(1, good)], source="gold.jsonl")
    assert stored[5:12] == "[EMAIL]"
    on_original = {"id": "s-1", "answers": {"marks": [{"start": 5, "end": 20, "label": "EMAIL"}]}}
    with pytest.raises(
        InvalidInput, match=r"gold.jsonl, line 1: .*end <= 16 \(the length of 'text'\)"
    ):
        gold.import_gold(db, project.id, parsed, [ParsedRow(1, on_original)], source="gold.jsonl")


# --- spec errors ----------------------------------------------------------------------------


def test_the_api_refuses_an_unknown_detector_naming_it(client: TestClient, db: Database) -> None:
    admin = bearer(make_token(db, "root", admin=True))
    bad = spec("bad", "mask", detect=["email", "ssn"])
    answer = client.post("/api/v1/projects", json=bad, headers=admin)
    assert answer.status_code == 422
    assert (
        "privacy.pii.detect[1]: expected one of email, phone, iban, credit_card, ip; got 'ssn'"
        in answer.text
    )
    assert client.get("/api/v1/projects", headers=admin).json() == []


def test_the_cli_refuses_an_unknown_or_image_field_naming_it(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    bad = spec("bad", "mode-to-be-replaced")
    bad["fields"].append({"name": "photo", "type": "image"})
    bad["privacy"]["pii"] = {"fields": ["body", "photo"], "mode": "mask"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = run("projects", "apply", str(path))
    assert result.exit_code == 2
    assert (
        "bad.yaml: privacy.pii.fields[0]: no field named 'body'; fields are text, contact, photo"
        in (result.output)
    )
    assert "privacy.pii.fields[1]: 'photo' is a field of type image; PII is looked for in" in (
        result.output
    )
    assert "Traceback" not in result.output
