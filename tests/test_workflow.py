"""The labeling workflow through the API: routing, leases, submits, skips, review, adjudication."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from labelwise.clock import now
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, AnnotationRevision, Assignment, Item, Project, User
from labelwise.policies import Action, HolderPermit, Permit, Role
from labelwise.services import accounts, audit
from labelwise.services.workflow import routing, submissions
from tests.conftest import bearer
from tests.teams import Team


def test_next_gives_the_same_item_until_submitted(client: TestClient, db: Database) -> None:
    team = Team(client, db, 3)
    team.member("ana")
    first = team.next("ana")
    assert first["item"]["external_id"] == "t-0" and first["item"]["data"]["text"] == "ticket 0"
    assert team.next("ana")["assignment_id"] == first["assignment_id"]  # no hoarding
    result = team.submit("ana", first["assignment_id"]).json()
    assert result["item_status"] == "done" and result["revision"] == 1
    assert team.next("ana")["item"]["external_id"] == "t-1"


def test_one_person_asking_at_once_from_many_threads_holds_one_lease(
    client: TestClient, db: Database
) -> None:
    """Routing decides one lease per person at a time (PostgreSQL: the person lock), so
    concurrent asks by one person all get the same item: no hoarding."""
    team = Team(client, db, 20)
    team.member("ana")
    with db.read() as session:
        ana = accounts.actor_of(session.scalars(select(User).where(User.username == "ana")).one())
    threads = 12
    start = threading.Barrier(threads)

    def ask(_: int) -> int | None:
        start.wait()
        lease = routing.next_annotation(db, "t", Permit(ana, Action.ANNOTATE))
        return None if lease is None else lease.assignment_id

    for _ in range(5):  # a race each round, then the lease is answered
        with ThreadPoolExecutor(threads) as pool:
            leases = set(pool.map(ask, range(threads)))
        assert len(leases) == 1 and None not in leases
        (assignment_id,) = leases
        submissions.submit(db, assignment_id, HolderPermit(ana), {"team": "tech"}, 900)
    with db.read() as session:
        taken = session.scalar(select(func.count()).where(Assignment.user_id == ana.user_id))
    assert taken == 5


def test_overlap_and_nobody_labels_twice(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2, overlap=2)
    for name in ("ana", "ben", "cem"):
        team.member(name)
    a, b, c = team.next("ana"), team.next("ben"), team.next("cem")
    assert a["item"]["id"] == b["item"]["id"]  # the started item is finished first
    assert c["item"]["id"] != a["item"]["id"]  # never more annotators than the overlap
    team.submit("ana", a["assignment_id"])
    team.submit("ben", b["assignment_id"])
    team.submit("cem", c["assignment_id"])
    assert team.next("ana")["item"]["id"] == c["item"]["id"]
    assert team.next("cem") is None  # ana holds the second slot; cem did the first item
    assert team.item("t-0").status == "done"


def test_priority_then_import_order(client: TestClient, db: Database) -> None:
    team = Team(client, db, 4)
    team.member("ana")
    with db.write() as session:
        session.execute(update(Item).where(Item.external_id == "t-2").values(priority=5))
    order = [team.label("ana")["item_id"] for _ in range(4)]
    ids = {team.item(f"t-{i}").id: f"t-{i}" for i in range(4)}
    assert [ids[i] for i in order] == ["t-2", "t-0", "t-1", "t-3"]
    assert team.next("ana") is None


def test_expired_lease_goes_back_to_the_pool(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=1)
    team.member("ana")
    team.member("ben")
    late = team.next("ana")
    _expire(db, late["assignment_id"])
    taken = team.next("ben")
    assert taken["item"]["id"] == late["item"]["id"]
    refused = team.submit("ana", late["assignment_id"])
    assert refused.status_code == 409 and "another annotator" in refused.json()["detail"]
    assert team.submit("ben", taken["assignment_id"]).status_code == 200


def test_asking_again_after_ones_lease_ran_out_gives_new_work(
    client: TestClient, db: Database
) -> None:
    """The lease that ran out is not handed back (on PostgreSQL the expiry and the held-lease
    check are one statement, which reads the lease as it was before the expiry)."""
    team = Team(client, db, 2, overlap=1)
    team.member("ana")
    team.member("ben")
    first = team.next("ana")
    _expire(db, first["assignment_id"])
    again = team.next("ana")
    assert again["assignment_id"] != first["assignment_id"]
    assert again["item"]["id"] != first["item"]["id"]
    assert team.next("ben")["item"]["id"] == first["item"]["id"]  # its slot came free


def test_late_submit_is_kept_when_the_slot_is_free(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=2)
    team.member("ana")
    team.member("ben")
    late = team.next("ana")
    _expire(db, late["assignment_id"])
    taken = team.next("ben")  # takes one of the two slots; the other is free again
    assert team.submit("ana", late["assignment_id"]).status_code == 200
    assert team.submit("ben", taken["assignment_id"]).json()["item_status"] == "done"


def _expire(db: Database, assignment_id: int) -> None:
    with db.write() as session:
        session.execute(
            update(Assignment)
            .where(Assignment.id == assignment_id)
            .values(expires_at=now() - timedelta(minutes=1))
        )


def test_submit_is_validated_and_idempotent(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1)
    team.member("ana")
    lease = team.next("ana")
    bad = team.submit("ana", lease["assignment_id"], team="sales")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("answers.team: ")
    assert "billing" in bad.json()["detail"]
    out_of_range = team.submit("ana", lease["assignment_id"], urgency=9)
    assert out_of_range.status_code == 422 and "urgency" in out_of_range.json()["detail"]
    first = team.submit("ana", lease["assignment_id"]).json()
    retry = team.submit("ana", lease["assignment_id"]).json()
    assert retry == first
    with db.read() as session:
        annotations = session.scalars(select(Annotation)).all()
    assert len(annotations) == 1 and annotations[0].time_ms == 1500


def test_someone_elses_assignment_is_not_found(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1)
    team.member("ana")
    team.member("ben")
    lease = team.next("ana")
    stolen = team.submit("ben", lease["assignment_id"])
    assert stolen.status_code == 404
    assert team.submit("ana", 999999).status_code == 404


def test_revising_keeps_every_revision(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1)
    team.member("ana")
    annotation_id = team.label("ana")["annotation_id"]
    body = {"answers": {"team": "tech"}, "time_ms": 700}
    revised = client.put(
        f"/api/v1/annotations/{annotation_id}", json=body, headers=bearer(team.tokens["ana"])
    )
    assert revised.status_code == 200 and revised.json()["revision"] == 2
    with db.read() as session:
        history = session.scalars(
            select(AnnotationRevision.answers).order_by(AnnotationRevision.revision)
        ).all()
    assert history == [{"team": "billing"}, {"team": "tech"}]
    team.member("ben")
    other = client.put(
        f"/api/v1/annotations/{annotation_id}", json=body, headers=bearer(team.tokens["ben"])
    )
    assert other.status_code == 404


def test_skip_needs_a_reason_and_is_not_offered_again(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2)
    team.member("ana")
    lease = team.next("ana")
    path = f"/api/v1/assignments/{lease['assignment_id']}/skip"
    assert team.post("ana", path, {"reason": ""}).status_code == 422
    assert team.post("ana", path, {"reason": "not English"}).status_code == 204
    assert team.item("t-0").status == "new"
    assert team.next("ana")["item"]["external_id"] == "t-1"
    team.member("ben")
    assert team.next("ben")["item"]["external_id"] == "t-0"


def test_per_annotator_cap(client: TestClient, db: Database) -> None:
    team = Team(client, db, 5, max_per_annotator=2)
    team.member("ana")
    team.label("ana")
    team.label("ana")
    assert team.next("ana") is None


def test_review_reject_rework_accept(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, review={"policy": "all"})
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    submitted = team.label("ana")
    assert submitted["item_status"] == "in_review"
    assert team.post("ana", "/api/v1/projects/t/review/next").status_code == 403

    review = team.next("rev", "review/")
    assert review["kind"] == "review" and review["answers"] == {"team": "billing"}
    path = f"/api/v1/assignments/{review['assignment_id']}/verdict"
    no_feedback = team.post("rev", path, {"verdict": "reject"})
    assert no_feedback.status_code == 422 and "feedback" in no_feedback.json()["detail"]
    assert (
        team.post("rev", path, {"verdict": "reject", "feedback": "It is tech."}).status_code == 200
    )

    rework = team.next("ana")
    assert rework["feedback"] == "It is tech." and rework["answers"] == {"team": "billing"}
    resubmitted = team.submit("ana", rework["assignment_id"], team="tech").json()
    assert resubmitted["revision"] == 2 and resubmitted["item_status"] == "in_review"

    again = team.next("rev", "review/")
    assert again["answers"] == {"team": "tech"}
    path = f"/api/v1/assignments/{again['assignment_id']}/verdict"
    assert team.post("rev", path, {"verdict": "accept"}).json()["item_status"] == "done"
    assert team.next("ana") is None


def test_nobody_reviews_their_own_work(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, review={"policy": "all"})
    team.member("boss", Role.MANAGER)
    team.label("boss")
    assert team.next("boss", "review/") is None


def test_correction_replaces_the_answer_and_keeps_the_original(
    client: TestClient, db: Database
) -> None:
    team = Team(client, db, 1, overlap=2, review={"policy": "all"}, adjudicate="disagreement")
    team.member("ana")
    team.member("ben")
    team.member("rev", Role.REVIEWER)
    team.label("ana", "billing")
    team.label("ben", "tech")
    for _ in range(2):
        lease = team.next("rev", "review/")
        verdict = (
            {"verdict": "correct", "answers": {"team": "tech"}}
            if lease["answers"] == {"team": "billing"}
            else {"verdict": "accept"}
        )
        result = team.post("rev", f"/api/v1/assignments/{lease['assignment_id']}/verdict", verdict)
        assert result.status_code == 200, result.text
    # The correction removed the disagreement, so no adjudication is needed.
    assert result.json()["item_status"] == "done"
    with db.read() as session:
        kept = session.scalars(select(Annotation.answers).order_by(Annotation.id)).all()
    assert kept == [{"team": "billing"}, {"team": "tech"}]


def test_disagreement_goes_to_adjudication(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=2, adjudicate="disagreement")
    team.member("ana")
    team.member("ben")
    team.member("boss", Role.MANAGER)
    team.label("ana", "billing")
    assert team.label("ben", "tech")["item_status"] == "in_adjudication"
    assert team.post("ana", "/api/v1/projects/t/adjudication/next").status_code == 403
    lease = team.next("boss", "adjudication/")
    assert lease["kind"] == "adjudicate"
    settled = team.submit("boss", lease["assignment_id"], "tech").json()
    assert settled["item_status"] == "done"
    item = team.item("t-0")
    assert item.final_answers == {"team": "tech"}
    export = client.get("/api/v1/projects/t/export", headers=bearer(team.tokens["boss"]))
    assert '"status":"done"' in export.text


def test_agreement_needs_no_adjudication(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=2, adjudicate="disagreement")
    team.member("ana")
    team.member("ben")
    team.label("ana", "billing")
    assert team.label("ben", "billing")["item_status"] == "done"


@pytest.mark.parametrize("rate", [0.25])
def test_stratified_review_sample(client: TestClient, db: Database, rate: float) -> None:
    review = {"policy": "stratified", "rate": rate, "slice_by": "channel", "min_per_slice": 2}
    team = Team(client, db, 40, review=review)
    team.member("ana")
    statuses = [team.label("ana")["item_status"] for _ in range(40)]
    # 20 items per channel: at least 2 each, then a quarter: 5 per channel, 10 in all.
    assert statuses.count("in_review") == 10
    with db.read() as session:
        project = session.scalars(select(Project)).one()
        reviewed = session.scalars(
            select(Item.data).where(Item.project_id == project.id, Item.status == "in_review")
        ).all()
    assert sorted(d["channel"] for d in reviewed) == ["chat"] * 5 + ["email"] * 5


def test_every_step_lands_in_the_audit_trail(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, review={"policy": "all"})
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    annotation_id = team.label("ana")["annotation_id"]
    lease = team.next("rev", "review/")
    verdict = {"verdict": "reject", "feedback": "It is tech."}
    team.post("rev", f"/api/v1/assignments/{lease['assignment_id']}/verdict", verdict)
    team.submit("ana", team.next("ana")["assignment_id"], "tech")
    history = client.get(
        f"/api/v1/projects/t/history/annotation/{annotation_id}", headers=team.auth("rev")
    ).json()
    steps = [(e["action"], e["actor"]) for e in history]
    assert steps == [
        ("annotation.created", "ana"),
        ("review.verdict", "rev"),
        ("annotation.revised", "ana"),
    ]
    assert history[2]["before"]["answers"] == {"team": "billing"}
    assert history[2]["after"]["answers"] == {"team": "tech"}
    assert audit.verify(db).ok
