"""Hard delete (GDPR erasure): the erased content is gone from every table, the audit trail
still verifies and records who erased what, and tampering is still caught."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from labelwise.canonical import canonical_json
from labelwise.cli.main import app
from labelwise.db.audit_chain import erased
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import Base, Escalation, Item, User
from labelwise.formats import ParsedRow
from labelwise.policies import Role
from labelwise.services import audit, erasure, guidelines, imports, projects, releases
from labelwise.spec import parse_spec
from tests.conftest import TEST_PASSWORD, bearer, make_token
from tests.test_web import CSRF_FIELD

SECRET = "Zq7-private"  # in every piece of content about item s-1
SPEC: dict[str, Any] = {
    "name": "Tickets",
    "slug": "t",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "team", "type": "single_label", "labels": ["billing", "tech"]},
        {"name": "note", "type": "text", "required": False},
    ],
    "workflow": {"overlap": 1, "review": {"policy": "all"}},
}


class Scene:
    """Project t: item s-1 whose text, answers, comments, questions, feedback and guideline
    example all hold SECRET, and item p-1 that holds none; both done and released as v1."""

    def __init__(self, client: TestClient, db: Database) -> None:
        self.client, self.db = client, db
        self.project = projects.apply_spec(db, parse_spec(SPEC)).project
        self.tokens = {name: make_token(db, name, admin=name == "root") for name in PEOPLE}
        for name, role in PEOPLE.items():
            if role is not None:
                projects.set_member(db, self.project, name, role)
        rows = [
            ParsedRow(1, {"id": "s-1", "text": f"Call me at {SECRET}"}),
            ParsedRow(2, {"id": "p-1", "text": "The app crashes"}),
        ]
        imports.import_items(db, self.project.id, parse_spec(SPEC), rows, source="test")
        self.item_id = self._item_id("s-1")

    def _item_id(self, external_id: str) -> int:
        with self.db.read() as session:
            return session.scalars(select(Item.id).where(Item.external_id == external_id)).one()

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        answer = self.client.request(method, path, json=body, headers=bearer(self.tokens[who]))
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def play(self) -> None:
        """Everything that leaves content about s-1 behind, through the API."""
        lease = self.call("ana", "POST", "/api/v1/projects/t/next")
        assert lease["item"]["external_id"] == "s-1"
        asked = {"question": f"Is {SECRET} a phone?"}
        escalation = self.call(
            "ana", "POST", f"/api/v1/assignments/{lease['assignment_id']}/escalate", asked
        )
        answer = {"answer": f"Yes, {SECRET} is"}
        self.call(
            "own", "POST", f"/api/v1/projects/t/escalations/{escalation['id']}/answer", answer
        )
        done = self._label("bob", "s-1", {"team": "billing", "note": f"first {SECRET}"})
        self.call(
            "bob",
            "POST",
            f"/api/v1/projects/t/items/{self.item_id}/comments",
            {"body": f"see {SECRET}"},
        )
        review = self.call("rev", "POST", "/api/v1/projects/t/review/next")
        verdict = {"verdict": "reject", "feedback": f"{SECRET} is not billing"}
        self.call("rev", "POST", f"/api/v1/assignments/{review['assignment_id']}/verdict", verdict)
        again = {"answers": {"team": "tech", "note": f"second {SECRET}"}}
        self.call("bob", "PUT", f"/api/v1/annotations/{done['annotation_id']}", again)
        self._accept()
        self._label("ana", "p-1", {"team": "tech"})
        self._accept()
        guidelines.add_example(
            self.db,
            self.project.id,
            parse_spec(SPEC),
            "s-1",
            {"team": "tech"},
            f"{SECRET} shows it",
            "example",
            None,
        )
        with self.db.write() as session:  # an open question, which the release's card lists
            bob = session.scalars(select(User.id).where(User.username == "bob")).one()
            question = f"Still {SECRET}?"
            session.add(
                Escalation(
                    project_id=self.project.id, item_id=self.item_id, user_id=bob, question=question
                )
            )
        releases.create(self.db, self.project, "v1", "majority", actor_id=None)
        assert (
            f"open question on `s-1`: Still {SECRET}?"
            in releases.get(self.db, self.project, "v1").card
        )

    def _label(self, who: str, external_id: str, answers: dict[str, Any]) -> Any:
        lease = self.call(who, "POST", "/api/v1/projects/t/next")
        assert lease["item"]["external_id"] == external_id
        body = {"answers": answers, "time_ms": 900}
        return self.call(who, "POST", f"/api/v1/assignments/{lease['assignment_id']}/submit", body)

    def _accept(self) -> None:
        review = self.call("rev", "POST", "/api/v1/projects/t/review/next")
        verdict = {"verdict": "accept"}
        self.call("rev", "POST", f"/api/v1/assignments/{review['assignment_id']}/verdict", verdict)


PEOPLE: dict[str, Role | None] = {
    "own": Role.OWNER,
    "ana": Role.ANNOTATOR,
    "bob": Role.ANNOTATOR,
    "rev": Role.REVIEWER,
    "root": None,
}


@pytest.fixture
def scene(client: TestClient, db: Database) -> Scene:
    scene = Scene(client, db)
    scene.play()
    return scene


def _everywhere(db: Database, needle: str) -> list[str]:
    """Every table and row whose text holds `needle`."""
    found = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                if needle in repr(tuple(row)):
                    found.append(f"{table.name}: {tuple(row)}")
    return found


def _user_id(db: Database, username: str) -> int:
    with db.read() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def test_erasing_an_item_leaves_its_content_nowhere(scene: Scene) -> None:
    assert len(_everywhere(scene.db, SECRET)) > 8  # items, annotations, comments, events...
    answer = scene.client.delete(
        f"/api/v1/projects/t/items/{scene.item_id}?hard=true", headers=bearer(scene.tokens["own"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["erased"] == "item s-1" and answer.json()["releases"] == 1
    assert answer.json()["counts"]["annotations"] == 1 and answer.json()["counts"]["comments"] == 1
    assert _everywhere(scene.db, SECRET) == []
    report = audit.verify(scene.db)
    assert report.ok, (report.breaks, report.mismatches, report.unrecorded)
    last = audit.events(scene.db, scene.project.id, after=0, limit=1)[0]
    assert (last.action, last.actor, last.target_id) == ("item.erased", "own", str(scene.item_id))
    assert last.after["external_id"] == "s-1" and report.erased == len(
        last.after["redacted_events"]
    )
    with scene.db.read() as session:
        redacted = session.scalars(
            select(AuditEvent).where(AuditEvent.id.in_(last.after["redacted_events"]))
        ).all()
    actions = {e.action for e in redacted}
    assert {
        "annotation.created",
        "annotation.revised",
        "comment.added",
        "item.escalated",
    } <= actions
    assert {"review.verdict", "escalation.answered", "guidelines.example_added"} <= actions
    assert all(set(e.after) == {"erased"} for e in redacted)


def test_the_other_items_work_is_untouched(scene: Scene) -> None:
    erasure.erase_item(scene.db, "t", "s-1", _user_id(scene.db, "own"))
    rows = list(releases.rows(scene.db, scene.project, "v1"))
    assert [r.external_id for r in rows] == ["p-1"] and rows[0].answers["team"] == "tech"
    report = audit.verify(scene.db)
    assert report.ok and report.annotations == 1 and report.not_covered == 0


def test_release_verify_reports_the_erasure_not_a_mismatch(scene: Scene, tmp_path: Path) -> None:
    erasure.erase_item(scene.db, "t", "s-1", _user_id(scene.db, "own"))
    check = releases.verify(scene.db, scene.project, "v1")
    assert check.intact and [(n.erased, n.rows_removed, n.by) for n in check.erasures] == [
        ("item s-1", 1, "own")
    ]
    env = {"LABELWISE_DATABASE_URL": scene.db.url, "LABELWISE_DATA_DIR": str(tmp_path / "d")}
    result = CliRunner().invoke(app, ["release", "verify", "t", "v1"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 item erased since this release (item s-1 by own at" in result.output
    with scene.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE release_rows SET \"row\" = replace(\"row\", 'tech', 'billing')")
        )
    assert not releases.verify(scene.db, scene.project, "v1").intact
    tampered = CliRunner().invoke(app, ["release", "verify", "t", "v1"], env=env)
    assert tampered.exit_code == 1 and "or to what the erasures left" in tampered.output


def test_erasing_a_person(scene: Scene) -> None:
    bob = _user_id(scene.db, "bob")
    answer = scene.client.delete(
        "/api/v1/users/bob?hard=true", headers=bearer(scene.tokens["root"])
    )
    assert answer.status_code == 200, answer.text
    pseudonym = f"erased-{bob}"
    assert answer.json()["erased"] == f"person {pseudonym}"
    assert answer.json()["counts"]["annotations"] == 1 and answer.json()["counts"]["tokens"] == 1
    assert _everywhere(scene.db, "'bob'") == [] and _everywhere(scene.db, '"bob"') == []
    # What stays is not theirs to erase: the item, ana's question and the owner's answer,
    # the example, and the release's final answers (no longer saying who gave them).
    left = _everywhere(scene.db, SECRET)
    assert {f.split(":")[0] for f in left} == {
        "items",
        "escalations",
        "guideline_examples",
        "release_rows",
        "audit_events",
    }
    assert [f for f in left if "annotation." in f or "comment." in f or "review." in f] == []
    report = audit.verify(scene.db)
    assert report.ok, (report.breaks, report.mismatches, report.unrecorded)
    (event,) = [
        e for e in audit.history(scene.db, None, "user", bob) if e.action == "person.erased"
    ]
    assert event.actor == "root" and event.after["pseudonym"] == pseudonym
    assert (
        scene.client.get("/api/v1/projects", headers=bearer(scene.tokens["bob"])).status_code == 401
    )
    for name in ("bob", pseudonym):  # the password no longer logs anyone in
        match = CSRF_FIELD.search(scene.client.get("/login").text)
        assert match
        form = {"username": name, "password": TEST_PASSWORD, "csrf_token": match.group(1)}
        login = scene.client.post("/login", data=form, follow_redirects=False)
        assert login.status_code != 303, name
    with scene.db.read() as session:
        item = session.get_one(Item, scene.item_id)
    assert (item.status, item.slots_used) == ("new", 0)  # open again, for another annotator
    rows = {r.external_id: r for r in releases.rows(scene.db, scene.project, "v1")}
    assert rows["s-1"].annotations == [] and rows["p-1"].annotations[0]["annotator"] == "ana"
    assert releases.verify(scene.db, scene.project, "v1").intact


def test_verify_still_catches_what_is_done_behind_the_applications_back(scene: Scene) -> None:
    erasure.erase_item(scene.db, "t", "s-1", None)
    with scene.db.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    kept = next(e for e in events if e.action == "annotation.created" and "item" in e.after)
    member = next(e for e in events if e.action == "member.role_changed")
    forged = next(e for e in events if e.after == {"erased": e.after.get("erased")})

    def run(statement: str, **params: Any) -> audit.VerifyReport:
        with scene.db.engine.begin() as connection:
            connection.execute(text(statement), params)
        return audit.verify(scene.db)

    edit = 'UPDATE audit_events SET "after" = :v WHERE id = :i'
    # A marker with another digest: content "erased" into something else.
    other = orjson.dumps({"erased": hashlib.sha256(b"other").hexdigest()}).decode()
    (broken,) = run(edit, v=other, i=forged.id).breaks
    assert broken.event_id == forged.id and "hash mismatch" in broken.reason
    run(edit, v=orjson.dumps(forged.after).decode(), i=forged.id)
    # Content erased with the right digest, but no erasure on record.
    marker = orjson.dumps(erased(member.after)).decode()
    report = run(edit, v=marker, i=member.id)
    assert not report.breaks and [u.event_id for u in report.unrecorded] == [member.id]
    assert not report.ok
    run(edit, v=canonical_json(member.after).decode(), i=member.id)
    assert audit.verify(scene.db).ok
    # A deleted annotation of an item nobody erased.
    annotation = int(kept.target_id or 0)
    run("DELETE FROM annotations WHERE id = :i", i=annotation)
    (mismatch,) = audit.verify(scene.db).mismatches
    assert mismatch.annotation_id == annotation and "missing" in mismatch.reason


def test_the_cli_asks_first(scene: Scene, tmp_path: Path) -> None:
    env = {"LABELWISE_DATABASE_URL": scene.db.url, "LABELWISE_DATA_DIR": str(tmp_path / "d")}
    declined = CliRunner().invoke(app, ["erase", "item", "t", "s-1"], input="n\n", env=env)
    assert declined.exit_code == 1 and "nothing erased" in declined.output
    assert _everywhere(scene.db, SECRET) != []
    done = CliRunner().invoke(app, ["erase", "item", "t", "s-1", "--yes"], env=env)
    assert done.exit_code == 0, done.output
    assert "erased item s-1: 1 annotations" in done.output and _everywhere(scene.db, SECRET) == []
    person = CliRunner().invoke(app, ["erase", "person", "ana"], input="y\n", env=env)
    assert person.exit_code == 0 and "erased person erased-" in person.output
    missing = CliRunner().invoke(app, ["erase", "item", "t", "nope", "--yes"], env=env)
    assert missing.exit_code != 0 and "item 'nope' not found in project 't'" in missing.output
    verified = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0 and "audit trail intact" in verified.output
    erased_count = audit.verify(scene.db).erased
    assert erased_count > 0 and f"{erased_count} events with erased content" in verified.output
    with scene.db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "project.created")
        ).one()
    with scene.db.engine.begin() as connection:
        connection.execute(
            text('UPDATE audit_events SET "after" = :v WHERE id = :i'),
            {"v": orjson.dumps(erased(event.after)).decode(), "i": event.id},
        )
    unrecorded = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert unrecorded.exit_code == 1
    assert f"event id {event.id}: its content was erased behind the application" in (
        unrecorded.output
    )


def test_a_delete_must_say_hard(scene: Scene) -> None:
    path = f"/api/v1/projects/t/items/{scene.item_id}"
    soft = scene.client.delete(path, headers=bearer(scene.tokens["own"]))
    assert soft.status_code == 422 and "hard=true" in soft.json()["detail"]
    myself = scene.client.delete(
        "/api/v1/users/root?hard=true", headers=bearer(scene.tokens["root"])
    )
    assert myself.status_code == 422 and "yourself" in myself.json()["detail"]
    assert _everywhere(scene.db, SECRET) != []
