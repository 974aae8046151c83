"""Escalations, comment threads, item detail, annotation history and feedback, over HTTP."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from labelwise.db.engine import Database
from labelwise.policies import Role
from tests.teams import Team


def test_escalation_holds_the_item_until_answered(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=2)
    team.member("ana")
    team.member("ben")
    team.member("boss", Role.MANAGER)
    lease = team.next("ana")
    asked = team.post(
        "ana",
        f"/api/v1/assignments/{lease['assignment_id']}/escalate",
        {"question": "Is a refund for shipping billing or shipping?"},
    )
    assert asked.status_code == 201
    assert team.next("ana") is None  # out of the asker's queue
    assert team.next("ben") is None  # and out of everyone's while it waits

    queue = team.client.get("/api/v1/projects/t/escalations", headers=team.auth("boss")).json()
    assert [(e["asked_by"], e["answer"]) for e in queue] == [("ana", None)]
    assert (
        team.client.get("/api/v1/projects/t/escalations", headers=team.auth("ana")).status_code
        == 403
    )
    path = f"/api/v1/projects/t/escalations/{queue[0]['id']}/answer"
    assert team.post("ben", path, {"answer": "billing"}).status_code == 403
    assert team.post("boss", path, {"answer": "Billing: money moves."}).status_code == 204
    assert team.post("boss", path, {"answer": "again"}).status_code == 409

    assert team.next("ben")["item"]["id"] == lease["item"]["id"]  # back in the pool
    feedback = team.client.get("/api/v1/projects/t/feedback", headers=team.auth("ana")).json()
    assert feedback["escalations"][0]["answer"] == "Billing: money moves."


def test_comments_and_item_visibility(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2)
    team.member("ana")
    team.member("ben")
    team.member("vic", Role.VIEWER)
    item_id = team.label("ana")["item_id"]
    path = f"/api/v1/projects/t/items/{item_id}/comments"
    assert team.post("ana", path, {"body": "Mentions two products."}).status_code == 201
    assert team.post("ben", path, {"body": "I never saw it"}).status_code == 404
    assert team.post("vic", path, {"body": "viewers only read"}).status_code == 403
    thread = team.client.get(path, headers=team.auth("vic")).json()
    assert [(c["author"], c["body"]) for c in thread] == [("ana", "Mentions two products.")]
    assert team.post("ana", path, {"body": "   "}).status_code == 422


def test_item_detail_shows_annotators_only_their_own_work(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=2)
    team.member("ana")
    team.member("ben")
    team.member("rev", Role.REVIEWER)
    item_id = team.label("ana", "billing")["item_id"]
    team.label("ben", "tech")
    path = f"/api/v1/projects/t/items/{item_id}"
    full = team.client.get(path, headers=team.auth("rev")).json()
    assert sorted(a["annotator"] for a in full["annotations"]) == ["ana", "ben"]
    own = team.client.get(path, headers=team.auth("ana")).json()
    assert [a["annotator"] for a in own["annotations"]] == ["ana"]
    assert own["data"]["text"] == "ticket 0"


def test_history_keeps_every_revision(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1)
    team.member("ana")
    team.member("ben")
    team.member("rev", Role.REVIEWER)
    annotation_id = team.label("ana")["annotation_id"]
    team.client.put(
        f"/api/v1/annotations/{annotation_id}",
        json={"answers": {"team": "tech"}},
        headers=team.auth("ana"),
    )
    path = f"/api/v1/annotations/{annotation_id}/history"
    for who in ("ana", "rev"):
        history = team.client.get(path, headers=team.auth(who)).json()
        assert [r["answers"] for r in history["revisions"]] == [
            {"team": "billing"},
            {"team": "tech"},
        ]
        assert history["annotation"]["revision"] == 2
    assert team.client.get(path, headers=team.auth("ben")).status_code == 404


def test_feedback_lists_rejections(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, review={"policy": "all"})
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    team.label("ana")
    lease = team.next("rev", "review/")
    verdict = {"verdict": "reject", "feedback": "Read the refund rule."}
    team.post("rev", f"/api/v1/assignments/{lease['assignment_id']}/verdict", verdict)
    feedback = team.client.get("/api/v1/projects/t/feedback", headers=team.auth("ana")).json()
    assert [(r["verdict"], r["feedback"]) for r in feedback["reviews"]] == [
        ("reject", "Read the refund rule.")
    ]


def test_export_carries_reviews_escalations_comments_and_final_answers(
    client: TestClient, db: Database
) -> None:
    team = Team(client, db, 2, overlap=2, review={"policy": "all"}, adjudicate="disagreement")
    for name in ("ana", "ben"):
        team.member(name)
    team.member("boss", Role.MANAGER)
    item_id = team.label("ana", "billing")["item_id"]
    team.label("ben", "tech")
    for _ in range(2):
        lease = team.next("boss", "review/")
        team.post(
            "boss", f"/api/v1/assignments/{lease['assignment_id']}/verdict", {"verdict": "accept"}
        )
    lease = team.next("boss", "adjudication/")
    team.submit("boss", lease["assignment_id"], "tech")
    team.post("ana", f"/api/v1/projects/t/items/{item_id}/comments", {"body": "Tricky one."})
    asked = team.next("ana")
    team.post(
        "ana", f"/api/v1/assignments/{asked['assignment_id']}/escalate", {"question": "Spam?"}
    )
    (open_question,) = team.client.get(
        "/api/v1/projects/t/escalations", headers=team.auth("boss")
    ).json()
    team.post(
        "boss", f"/api/v1/projects/t/escalations/{open_question['id']}/answer", {"answer": "Yes."}
    )

    lines = team.client.get(
        "/api/v1/projects/t/export", headers=team.auth("boss")
    ).text.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["status"] == "done" and first["final_answers"] == {"team": "tech"}
    assert [a["reviews"][0]["verdict"] for a in first["annotations"]] == ["accept", "accept"]
    assert first["comments"][0]["body"] == "Tricky one."
    assert second["escalations"][0] | {"asked_at": None, "answered_at": None} == {
        "asked_by": "ana",
        "question": "Spam?",
        "answer": "Yes.",
        "answered_by": "boss",
        "asked_at": None,
        "answered_at": None,
    }
    csv_export = team.client.get("/api/v1/projects/t/export?format=csv", headers=team.auth("boss"))
    assert "Tricky one." in csv_export.text and "final_answers" in csv_export.text


def test_export_with_consensus_and_soft_labels(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=3)
    for name in ("ana", "ben", "cem"):
        team.member(name)
        team.label(name, "tech" if name != "cem" else "billing")
    team.member("boss", Role.MANAGER)
    path = "/api/v1/projects/t/export?consensus=majority&soft=true"
    (line,) = team.client.get(path, headers=team.auth("boss")).text.splitlines()
    agreed = json.loads(line)["consensus"]["team"]
    # Two of three said tech.
    assert agreed["answer"] == "tech" and agreed["confidence"] == pytest.approx(2 / 3)
    assert agreed["probabilities"] == pytest.approx({"billing": 1 / 3, "tech": 2 / 3})
    plain = team.client.get("/api/v1/projects/t/export", headers=team.auth("boss")).text
    assert json.loads(plain)["consensus"] is None
    bad = team.client.get("/api/v1/projects/t/export?consensus=vibes", headers=team.auth("boss"))
    assert bad.status_code == 422 and "majority" in bad.json()["detail"]
