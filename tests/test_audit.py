"""The audit trail: events from real service calls, tamper detection, CLI, API, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from labelwise.cli.main import app
from labelwise.db.audit_chain import GENESIS, HASHED_FIELDS, STATE_FIELDS, event_hash, state_hash
from labelwise.db.audit_models import AuditEvent, AuditHead
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Project, User
from labelwise.policies import Role
from labelwise.services import accounts, audit, guidelines, projects
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token
from tests.teams import Team

SPEC: dict[str, Any] = {
    "name": "Audited",
    "slug": "audited",
    "goal": "Keep every change on record.",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "q", "type": "single_label", "labels": ["a", "b"]}],
}


def _rows(db: Database, chain: str) -> list[tuple[int, int]]:
    """(id, seq) of a chain's events, in seq order."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, seq FROM audit_events WHERE chain = :c ORDER BY seq"), {"c": chain}
        )
        return [(int(i), int(s)) for i, s in rows]


def _sql(db: Database, statement: str, **params: Any) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def project(db: Database) -> Project:
    """A project whose chain holds five events, made by the ordinary service calls."""
    accounts.create_user(db, "ana", "long enough password")
    created = projects.apply_spec(db, parse_spec(SPEC)).project
    projects.apply_spec(db, parse_spec({**SPEC, "goal": "A new goal."}))
    projects.set_member(db, created, "ana", Role.VIEWER)
    projects.set_member(db, created, "ana", Role.ANNOTATOR)
    projects.set_member(db, created, "ana", None)
    return created


def test_service_calls_build_intact_chains(db: Database, project: Project) -> None:
    page = audit.events(db, project.id, after=0, limit=10)
    assert [(e.seq, e.action) for e in page] == [
        (5, "member.removed"),
        (4, "member.role_changed"),
        (3, "member.role_changed"),
        (2, "project.spec_changed"),
        (1, "project.created"),
    ]
    assert page[1].before == {"user": "ana", "role": "viewer"}
    assert page[1].after == {"user": "ana", "role": "annotator"}
    assert page[3].before["goal"] == SPEC["goal"] and page[3].after["goal"] == "A new goal."
    (user_created,) = audit.history(db, None, "user", page[0].target_id or "")
    assert user_created.after == {"username": "ana", "is_admin": False}
    report = audit.verify(db)
    assert report.ok and (report.chains, report.events) == (2, 6)


def test_events_whose_contents_look_like_the_seq_hash_like_any_other(
    db: Database, project: Project
) -> None:
    """PostgreSQL hashes an event around the seq it takes: look-alikes must not confuse it."""
    tricky = {"seq": 0, "note": '"seq":0', "nested": [{"seq": 0}]}
    with db.write() as session:
        for target in ('"seq":0', None, "7"):
            audit.record(
                session,
                project_id=project.id,
                actor_id=None,
                action="test.tricky",
                target_type="seq",
                target_id=target,
                before=tricky,
                after={"seq": 12, "text": '\\"seq\\":0'},
            )
    events = audit.events(db, project.id, after=0, limit=3)
    assert [e.seq for e in events] == [8, 7, 6] and events[0].before == tricky
    report = audit.verify(db)
    assert report.ok, report.breaks


def test_unchanged_calls_record_nothing(db: Database, project: Project) -> None:
    projects.apply_spec(db, parse_spec({**SPEC, "goal": "A new goal."}))
    projects.set_member(db, project, "ana", None)
    assert len(audit.events(db, project.id, after=0, limit=10)) == 5


def test_an_event_rolls_back_with_its_transaction(db: Database, project: Project) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        audit.record(
            session, project_id=project.id, actor_id=None, action="x", target_type="t", target_id=1
        )
        raise RuntimeError("the change failed")
    assert [s for _, s in _rows(db, audit.chain_of(project.id))] == [1, 2, 3, 4, 5]
    projects.set_member(db, project, "ana", Role.VIEWER)
    assert audit.events(db, project.id, after=0, limit=1)[0].seq == 6
    assert audit.verify(db).ok


def _edit_after(db: Database, ids: list[int]) -> None:
    _sql(db, 'UPDATE audit_events SET "after" = :v WHERE id = :id', v='{"role":"owner"}', id=ids[2])


def _delete_middle(db: Database, ids: list[int]) -> None:
    _sql(db, "DELETE FROM audit_events WHERE id = :id", id=ids[2])


def _delete_last(db: Database, ids: list[int]) -> None:
    _sql(db, "DELETE FROM audit_events WHERE id = :id", id=ids[4])


def _swap_seq(db: Database, ids: list[int]) -> None:
    for event_id, seq in ((ids[1], -1), (ids[2], 2), (ids[1], 3)):
        _sql(db, "UPDATE audit_events SET seq = :s WHERE id = :id", s=seq, id=event_id)


def _rehash_edited(db: Database, ids: list[int]) -> None:
    """Edit an event and recompute its own hash: the next event's link still breaks."""
    with db.read() as session:
        event = session.get_one(AuditEvent, ids[2])
    fields = {name: getattr(event, name) for name in audit.HASHED_FIELDS}
    fields["after"] = {"user": "ana", "role": "owner"}
    forged = audit.event_hash(event.prev_hash, fields)
    _sql(
        db,
        'UPDATE audit_events SET "after" = :v, hash = :h WHERE id = :id',
        v='{"user":"ana","role":"owner"}',
        h=forged,
        id=ids[2],
    )


# tamper, index of the event the report must name (None: the missing tail), seq, reason
TAMPERING: list[tuple[Callable[[Database, list[int]], None], int | None, int, str]] = [
    (_edit_after, 2, 3, "hash mismatch"),
    (_delete_middle, 3, 4, "seq gap: expected seq 3"),
    (_delete_last, None, 5, "the head says 5 events, found 4"),
    (_swap_seq, 2, 2, "hash mismatch"),
    (_rehash_edited, 3, 4, "prev_hash mismatch"),
]


@pytest.mark.parametrize(
    ("tamper", "index", "seq", "reason"), TAMPERING, ids=[t[0].__name__ for t in TAMPERING]
)
def test_tampering_is_detected_at_the_right_event(
    db: Database,
    project: Project,
    tamper: Callable[[Database, list[int]], None],
    index: int | None,
    seq: int,
    reason: str,
) -> None:
    chain = audit.chain_of(project.id)
    ids = [i for i, _ in _rows(db, chain)]
    tamper(db, ids)
    report = audit.verify(db)
    assert len(report.breaks) == 1, report.breaks
    (broken,) = report.breaks
    assert (broken.chain, broken.project_id, broken.seq) == (chain, project.id, seq)
    assert broken.event_id == (None if index is None else ids[index])
    assert reason in broken.reason


def test_a_deleted_head_is_detected(db: Database, project: Project) -> None:
    _sql(db, "DELETE FROM audit_heads WHERE chain = :c", c=audit.chain_of(project.id))
    (broken,) = audit.verify(db).breaks
    assert "head row is missing" in broken.reason


def test_cli_verify_exit_codes(db: Database, project: Project, tmp_path: Path) -> None:
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    intact = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "checked 2 chains, 6 events" in intact.output and "audit trail intact" in intact.output

    ids = [i for i, _ in _rows(db, audit.chain_of(project.id))]
    _delete_middle(db, ids)
    broken = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert f"project id {project.id}" in broken.output and f"event id {ids[3]}" in broken.output
    assert "intact" not in broken.output and "Traceback" not in broken.output


def test_activity_pages_newest_first_with_the_actor(
    client: TestClient, db: Database, project: Project
) -> None:
    owner = make_token(db, "olga")
    projects.set_member(db, project, "olga", Role.OWNER)
    for role in ("viewer", "reviewer", "annotator"):
        answer = client.put(
            "/api/v1/projects/audited/members/ana", json={"role": role}, headers=bearer(owner)
        )
        assert answer.status_code == 200
    seen: list[dict[str, Any]] = []
    params = {"limit": "3"}
    while True:
        page = client.get(
            "/api/v1/projects/audited/activity", params=params, headers=bearer(owner)
        ).json()
        seen += page["events"]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert [e["seq"] for e in seen] == list(range(9, 0, -1))
    assert [(e["actor"], e["after"]["role"]) for e in seen[:3]] == [
        ("olga", "annotator"),
        ("olga", "reviewer"),
        ("olga", "viewer"),
    ]
    assert seen[3]["actor"] is None  # the service call made without an actor


def test_history_reads_back_one_targets_events(
    client: TestClient, db: Database, project: Project
) -> None:
    admin = make_token(db, "root", admin=True)
    ana = client.get("/api/v1/projects/audited/activity?limit=1", headers=bearer(admin)).json()[
        "events"
    ][0]["target_id"]
    seen = client.get(f"/api/v1/projects/audited/history/user/{ana}", headers=bearer(admin))
    assert seen.status_code == 200
    assert [e["action"] for e in seen.json()] == [
        "member.role_changed",
        "member.role_changed",
        "member.removed",
    ]


def test_a_non_member_gets_404(client: TestClient, db: Database, project: Project) -> None:
    outsider = make_token(db, "outsider")
    for path in ("activity", "history/project/1"):
        answer = client.get(f"/api/v1/projects/audited/{path}", headers=bearer(outsider))
        assert answer.status_code == 404
        assert "Audited" not in answer.text


def test_bad_cursor_is_refused(client: TestClient, db: Database, project: Project) -> None:
    admin = make_token(db, "root", admin=True)
    answer = client.get("/api/v1/projects/audited/activity?cursor=x", headers=bearer(admin))
    assert answer.status_code == 422 and "cursor" in answer.json()["detail"]


def test_concurrent_appends_keep_one_linear_chain(db: Database) -> None:
    project = projects.apply_spec(db, parse_spec(SPEC)).project
    threads, per_thread = 8, 50
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with db.write() as session:
                    audit.record(
                        session,
                        project_id=project.id,
                        actor_id=None,
                        action="test.appended",
                        target_type="worker",
                        target_id=worker,
                        after={"n": n},
                    )
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    seqs = [s for _, s in _rows(db, audit.chain_of(project.id))]
    assert seqs == list(range(1, threads * per_thread + 2))  # + project.created
    report = audit.verify(db)
    assert report.ok, report.breaks
    assert report.events == threads * per_thread + 1


# --- annotations against their events -------------------------------------------------------


@pytest.fixture
def labeled(client: TestClient, db: Database) -> tuple[Team, list[int]]:
    """Two annotations written over HTTP under guideline version 1."""
    team = Team(client, db, 3)
    team.member("ana")
    guidelines.publish(db, team.project.id, "Route by team.", "first", None)
    with db.read() as session:
        ana = session.scalars(select(User).where(User.username == "ana")).one()
    guidelines.acknowledge(db, team.project.id, ana.id, 1)
    ids = [team.label("ana", team_name)["annotation_id"] for team_name in ("billing", "tech")]
    return team, ids


def _verify_cli(db: Database, tmp_path: Path) -> Any:
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(app, ["audit", "verify"], env=env)


def test_annotation_events_carry_guideline_version_source_and_state(
    db: Database, labeled: tuple[Team, list[int]], tmp_path: Path
) -> None:
    team, ids = labeled
    (created,) = audit.history(db, team.project.id, "annotation", ids[0])
    assert created.action == "annotation.created"
    assert created.after["guideline_version"] == 1 and created.after["source"] == "human"
    with db.read() as session:
        row = session.get_one(Annotation, ids[0])
        fields = {name: getattr(row, name) for name in STATE_FIELDS}
    assert created.after["state_hash"] == state_hash(fields)
    report = audit.verify(db)
    assert report.ok and (report.annotations, report.not_covered) == (2, 0)
    result = _verify_cli(db, tmp_path)
    assert result.exit_code == 0 and "2 annotations (0 not covered" in result.output


def test_a_direct_update_of_an_annotation_is_found(
    db: Database, labeled: tuple[Team, list[int]], tmp_path: Path
) -> None:
    team, ids = labeled
    _sql(db, "UPDATE annotations SET answers = :a WHERE id = :i", a='{"team": "tech"}', i=ids[0])
    report = audit.verify(db)
    assert not report.breaks  # the events themselves are intact
    (mismatch,) = report.mismatches
    (created,) = audit.history(db, team.project.id, "annotation", ids[0])
    assert (mismatch.annotation_id, mismatch.project, mismatch.item_external_id) == (
        ids[0],
        "t",
        "t-0",
    )
    assert mismatch.event_id == created.id and "differ" in mismatch.reason
    result = _verify_cli(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"annotation {ids[0]} (item t-0, project t)" in result.output
    assert f"event id {created.id}" in result.output and "intact" not in result.output


def test_a_changed_guideline_version_is_found(
    db: Database, labeled: tuple[Team, list[int]]
) -> None:
    _, ids = labeled
    _sql(db, "UPDATE annotations SET guideline_version = NULL WHERE id = :i", i=ids[1])
    assert [m.annotation_id for m in audit.verify(db).mismatches] == [ids[1]]


def test_a_deleted_annotation_row_is_found(
    db: Database, labeled: tuple[Team, list[int]], tmp_path: Path
) -> None:
    _, ids = labeled
    _sql(db, "DELETE FROM annotation_revisions WHERE annotation_id = :i", i=ids[1])
    _sql(db, "UPDATE assignments SET annotation_id = NULL WHERE annotation_id = :i", i=ids[1])
    _sql(db, "DELETE FROM annotations WHERE id = :i", i=ids[1])
    (mismatch,) = audit.verify(db).mismatches
    assert (mismatch.annotation_id, mismatch.project, mismatch.item_external_id) == (
        ids[1],
        "t",
        "t-1",
    )
    assert "missing" in mismatch.reason
    result = _verify_cli(db, tmp_path)
    assert result.exit_code == 1 and f"annotation {ids[1]} (item t-1" in result.output


def test_an_edit_through_the_api_stays_verified(
    client: TestClient, db: Database, labeled: tuple[Team, list[int]]
) -> None:
    team, ids = labeled
    guidelines.publish(db, team.project.id, "Route by team, carefully.", "second", None)
    body = {"answers": {"team": "tech", "urgency": 4}, "time_ms": 700}
    answer = client.put(f"/api/v1/annotations/{ids[0]}", json=body, headers=team.auth("ana"))
    assert answer.status_code == 200, answer.text
    revised = audit.history(db, team.project.id, "annotation", ids[0])[-1]
    assert revised.action == "annotation.revised" and revised.after["revision"] == 2
    assert revised.after["guideline_version"] == 2 and revised.after["source"] == "human"
    assert audit.verify(db).ok
    # The row now matches the revision's event, so restoring the first answers is a change.
    _sql(db, "UPDATE annotations SET answers = :a WHERE id = :i", a='{"team": "billing"}', i=ids[0])
    (mismatch,) = audit.verify(db).mismatches
    assert mismatch.event_id == revised.id


def test_events_from_before_the_state_hash_still_verify(
    db: Database, labeled: tuple[Team, list[int]], tmp_path: Path
) -> None:
    """A chain written before events carried the state: rewritten as the old code wrote it
    (no guideline version, source or state hash), rehashed link by link."""
    team, _ = labeled
    chain = audit.chain_of(team.project.id)
    with db.snapshot() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        ).all()
        events = [(e.id, {name: getattr(e, name) for name in HASHED_FIELDS}) for e in rows]
    prev = GENESIS
    with db.engine.begin() as connection:
        for event_id, fields in events:
            if fields["target_type"] == "annotation":
                old = ("item", "answers", "time_ms")
                fields["after"] = {k: v for k, v in fields["after"].items() if k in old}
            link = event_hash(prev, fields)
            connection.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event_id)
                .values(after=fields["after"], prev_hash=prev, hash=link)
            )
            prev = link
        connection.execute(update(AuditHead).where(AuditHead.chain == chain).values(hash=prev))
    report = audit.verify(db)
    assert report.ok and (report.annotations, report.not_covered) == (2, 2)
    result = _verify_cli(db, tmp_path)
    assert result.exit_code == 0 and "2 not covered" in result.output
