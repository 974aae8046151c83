"""Routing under real concurrency: threads, real HTTP, `labelwise serve` as a subprocess.

Unit tests of the routing rules run one request at a time and cannot see races; these runs
have 16 annotators hammer real server processes (one on SQLite and PostgreSQL, two sharing
one PostgreSQL) and then check the database for what a race would leave behind: an item
over its overlap, a person given one item twice, a submit answered 200 but not stored.
"""

from __future__ import annotations

import io
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from labelwise import clock
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Assignment, Item, User
from labelwise.formats import FORMATS
from labelwise.policies import Role
from labelwise.services import audit, imports, projects
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token
from tests.test_serve import running

SLUG = "race"
LABELS = ["red", "green", "blue"]
TIMEOUT = httpx.Timeout(60.0)  # SQLite writers may queue behind the busy timeout


@dataclass
class Annotator:
    username: str
    token: str
    user_id: int


@dataclass
class Log:
    """What one annotator saw over HTTP: enough to cross-check the database afterwards."""

    username: str
    leases: list[tuple[int, int]] = field(default_factory=list)  # (assignment id, item id)
    submitted: list[dict[str, Any]] = field(default_factory=list)  # the 200 submit bodies
    failures: list[str] = field(default_factory=list)  # every answer not 200 or 204
    last_status: int | None = None


def _set_up(db: Database, items: int, overlap: int, annotators: int) -> list[Annotator]:
    """Project, members and items through the services, before any server starts."""
    spec = parse_spec(
        {
            "name": "Race",
            "slug": SLUG,
            "fields": [{"name": "text", "type": "text"}],
            "questions": [{"name": "colour", "type": "single_label", "labels": LABELS}],
            "workflow": {"overlap": overlap},
        }
    )
    projects.apply_spec(db, spec)
    project = projects.get(db, SLUG)
    lines = b"".join(
        orjson.dumps({"id": f"i{n}", "text": f"item {n}"}) + b"\n" for n in range(items)
    )
    rows = FORMATS["jsonl"].read
    assert rows is not None
    imports.import_items(db, project.id, spec, rows(io.BytesIO(lines)), source="race.jsonl")
    people = []
    for n in range(annotators):
        username = f"a{n:02d}"
        token = make_token(db, username)
        projects.set_member(db, project, username, Role.ANNOTATOR)
        people.append(Annotator(username, token, _user_id(db, username)))
    return people


def _user_id(db: Database, username: str) -> int:
    with db.read() as session:
        return int(session.scalars(select(User.id).where(User.username == username)).one())


@dataclass
class Servers:
    """Base URLs of the running `labelwise serve` processes, handed out round-robin."""

    bases: list[str]

    def base_for(self, index: int) -> str:
        return self.bases[index % len(self.bases)]


@contextmanager
def _serve(db: Database, tmp_path: Path, count: int) -> Iterator[Servers]:
    env = {"LABELWISE_DATA_DIR": str(tmp_path / "data"), "LABELWISE_DATABASE_URL": db.url}
    with ExitStack() as stack:
        bases = [
            stack.enter_context(running("serve", env, output=tmp_path / f"serve-{n}.log"))[0]
            for n in range(count)
        ]
        yield Servers(bases)


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers=bearer(token), timeout=TIMEOUT)


def _record(log: Log, answer: httpx.Response) -> None:
    log.last_status = answer.status_code
    if answer.status_code not in (200, 204):
        request = answer.request
        log.failures.append(
            f"{request.method} {request.url.path} -> {answer.status_code}: {answer.text[:300]}"
        )


def _label_until_empty(base: str, annotator: Annotator, seed: int) -> Log:
    """next + submit until the server answers 204 (or anything unexpected)."""
    log = Log(annotator.username)
    choose = random.Random(seed).choice
    with _client(base, annotator.token) as client:
        while True:
            answer = client.post(f"/api/v1/projects/{SLUG}/next")
            _record(log, answer)
            if answer.status_code != 200:
                return log
            lease = answer.json()
            log.leases.append((lease["assignment_id"], lease["item"]["id"]))
            body = {"answers": {"colour": choose(LABELS)}, "time_ms": 1}
            answer = client.post(f"/api/v1/assignments/{lease['assignment_id']}/submit", json=body)
            _record(log, answer)
            if answer.status_code != 200:
                return log
            log.submitted.append(answer.json())


def _in_threads(jobs: list[Callable[[], Log]]) -> list[Log]:
    """Run every job on its own thread, released together; re-raise any thread's exception."""
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], Log]) -> Log:
        start.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return [future.result() for future in [pool.submit(run, job) for job in jobs]]


def _label_everything(servers: Servers, people: list[Annotator]) -> list[Log]:
    return _in_threads(
        [
            partial(_label_until_empty, servers.base_for(i), person, seed=i)
            for i, person in enumerate(people)
        ]
    )


def _check_http(logs: list[Log], items: int, overlap: int, said: str) -> None:
    failures = [failure for log in logs for failure in log.failures]
    assert failures == [], (failures[:10], said[-6000:])
    assert all(log.last_status == 204 for log in logs), [
        (lg.username, lg.last_status) for lg in logs
    ]
    assert sum(len(log.submitted) for log in logs) == items * overlap
    for log in logs:
        assignments_per_item = Counter(item_id for _, item_id in set(log.leases))
        doubled = [item for item, n in assignments_per_item.items() if n > 1]
        assert doubled == [], f"{log.username} was given items {doubled[:5]} twice"


def _told(logs: list[Log], people: list[Annotator]) -> dict[int, tuple[int, int]]:
    """What the 200 submits said was stored: annotation id -> (user id, item id)."""
    by_user = {person.username: person.user_id for person in people}
    return {
        body["annotation_id"]: (by_user[log.username], body["item_id"])
        for log in logs
        for body in log.submitted
    }


def _stored(session: Session) -> dict[int, tuple[int, int]]:
    rows = session.execute(select(Annotation.id, Annotation.user_id, Annotation.item_id))
    return {row.id: (row.user_id, row.item_id) for row in rows}


def _check_database(
    db: Database, logs: list[Log], people: list[Annotator], items: int, overlap: int
) -> None:
    """Every item: exactly `overlap` annotations by as many people; nothing lost or extra."""
    with db.read() as session:
        per_item = session.execute(
            select(
                Annotation.item_id, func.count(), func.count(func.distinct(Annotation.user_id))
            ).group_by(Annotation.item_id)
        ).all()
        assert len(per_item) == items
        assert {(count, people_) for _, count, people_ in per_item} == {(overlap, overlap)}
        assert _told(logs, people) == _stored(session), "a 200 submit not stored, or vice versa"
        _check_assignments(session, items, overlap)
        created = session.scalar(
            select(func.count()).where(AuditEvent.action == "annotation.created")
        )
        assert created == items * overlap, "an annotation without its audit event"
    report = audit.verify(db)  # the appends raced for the project's chain head
    assert report.ok, report.breaks


def _check_assignments(session: Session, items: int, overlap: int) -> None:
    """No lease expired here, so every assignment ever made is still counted."""
    per_item = Counter(
        session.scalars(select(Assignment.item_id).where(Assignment.kind == "annotate"))
    )
    assert len(per_item) == items and set(per_item.values()) == {overlap}, "an item over overlap"
    per_person = Counter(
        session.execute(
            select(Assignment.item_id, Assignment.user_id).where(Assignment.kind == "annotate")
        ).all()
    )
    assert max(per_person.values()) == 1, "someone was assigned one item twice"
    statuses = set(session.scalars(select(Assignment.status).distinct()))
    assert statuses == {"submitted"}
    item_states = set(session.execute(select(Item.status, Item.slots_used).distinct()).all())
    assert item_states == {("done", overlap)}


def _label_and_check(db: Database, tmp_path: Path, server_count: int) -> None:
    items, overlap = 2000, 3
    people = _set_up(db, items=items, overlap=overlap, annotators=16)
    with _serve(db, tmp_path, server_count) as servers:
        logs = _label_everything(servers, people)
    said = "".join(log.read_text() for log in sorted(tmp_path.glob("serve-*.log")))
    _check_http(logs, items, overlap, said)
    _check_database(db, logs, people, items, overlap)


def test_sixteen_annotators_one_server(db: Database, tmp_path: Path) -> None:
    _label_and_check(db, tmp_path, server_count=1)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_sixteen_annotators_two_servers_on_one_postgresql(db: Database, tmp_path: Path) -> None:
    _label_and_check(db, tmp_path, server_count=2)


# --- leases that ran out, raced -------------------------------------------------------------


def _take(base: str, person: Annotator) -> int:
    with _client(base, person.token) as client:
        answer = client.post(f"/api/v1/projects/{SLUG}/next")
        assert answer.status_code == 200, answer.text
        return int(answer.json()["assignment_id"])


def _late_submit(base: str, person: Annotator, assignment_id: int) -> Log:
    log = Log(person.username)
    with _client(base, person.token) as client:
        body = {"answers": {"colour": "red"}, "time_ms": 1}
        answer = client.post(f"/api/v1/assignments/{assignment_id}/submit", json=body)
    log.last_status = answer.status_code
    if answer.status_code == 200:
        log.submitted.append(answer.json())
    elif answer.status_code != 409 or "lease on this item ran out" not in answer.text:
        log.failures.append(f"late submit -> {answer.status_code}: {answer.text[:300]}")
    return log


def _expire_all(db: Database) -> None:
    with db.write() as session:
        session.execute(update(Assignment).values(expires_at=clock.now() - timedelta(minutes=1)))


def test_late_submits_race_new_takers(db: Database, tmp_path: Path) -> None:
    """Holders of run-out leases submit while newcomers ask for work, all at once.

    Per the rules each slot goes to exactly one of them: the late submit is accepted (200)
    if nobody took the slot first, else refused (409); never both, never neither.
    """
    items = 16
    people = _set_up(db, items=items, overlap=1, annotators=2 * items)
    holders, newcomers = people[:items], people[items:]
    with _serve(db, tmp_path, 1) as servers:
        base = servers.bases[0]
        held = [_take(base, person) for person in holders]
        _expire_all(db)
        logs = _in_threads(
            [
                *(partial(_late_submit, base, p, a) for p, a in zip(holders, held, strict=True)),
                *(partial(_label_until_empty, base, p, seed=0) for p in newcomers),
            ]
        )
    failures = [failure for log in logs for failure in log.failures]
    assert failures == [], failures
    late, fresh = logs[:items], logs[items:]
    accepted = sum(log.last_status == 200 for log in late)
    taken = sum(len(log.leases) for log in fresh)
    assert accepted + taken == items
    assert all(log.last_status == 204 for log in fresh)
    _check_database_after_expiry(db, logs, people, items)


def _check_database_after_expiry(
    db: Database, logs: list[Log], people: list[Annotator], items: int
) -> None:
    """One annotation per item, from whoever won its slot, and no live lease beside it."""
    with db.read() as session:
        stored = _stored(session)
        live = Counter(
            session.scalars(
                select(Assignment.item_id).where(
                    Assignment.status.in_(("active", "submitted")), Assignment.kind == "annotate"
                )
            )
        )
        states = set(session.execute(select(Item.status, Item.slots_used).distinct()).all())
    assert _told(logs, people) == stored
    assert sorted(item for _, item in stored.values()) == sorted(live)
    assert len(live) == items and set(live.values()) == {1}
    assert states == {("done", 1)}
