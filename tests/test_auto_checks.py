"""The checks stage runs by itself beside a real server: findings arrive without `checks run`."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from labelwise.app import create_app
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import CheckFinding
from labelwise.policies import Role
from labelwise.services.background import BackgroundProcess, Sweeper
from labelwise.settings import Settings
from tests.teams import Team

TOO_FAST = {"too_fast": {"min_ms": 1000}, "send_to_review": True}


def _client(db: Database, data_dir: Path, seconds: int) -> TestClient:
    settings = Settings(data_dir=data_dir, database_url=db.url, auto_checks_seconds=seconds)
    return TestClient(create_app(settings, db), base_url="http://testserver")


def _label_fast(team: Team, n: int) -> None:
    for _ in range(n):
        lease = team.next("ana")
        body = {"answers": {"team": "billing"}, "time_ms": 300}
        answer = team.post("ana", f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
        assert answer.status_code == 200, answer.text


def _findings(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CheckFinding)) or 0)


def _runs(db: Database) -> int:
    with db.read() as session:
        query = select(func.count()).where(AuditEvent.action == "checks.run")
        return int(session.scalar(query) or 0)


def _wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_items_finished_over_http_are_checked_and_sent_to_review(
    db: Database, tmp_path: Path
) -> None:
    with _client(db, tmp_path / "data", 1) as client:
        team = Team(client, db, 3, quality={"checks": TOO_FAST})
        team.member("ana")
        _label_fast(team, 2)
        assert [p.name for p in multiprocessing.active_children()] == ["labelwise-background"]
        assert _wait_for(lambda: _findings(db) == 2), "no findings without `checks run`"
        assert _wait_for(lambda: team.item("t-0").status == "in_review")
        assert team.item("t-1").status == "in_review" and team.item("t-2").status == "new"
        runs = _runs(db)
        time.sleep(2.5)  # two more sweeps with nothing new: no further run
        assert _runs(db) == runs
        _label_fast(team, 1)
        assert _wait_for(lambda: _findings(db) == 3)


def test_switched_off_nothing_runs(db: Database, tmp_path: Path) -> None:
    with _client(db, tmp_path / "data", 0) as client:
        team = Team(client, db, 2, quality={"checks": TOO_FAST})
        team.member("ana")
        _label_fast(team, 2)
        time.sleep(2.5)
        assert _findings(db) == 0 and _runs(db) == 0
        assert not (tmp_path / "data" / "background.lock").exists()


def test_one_process_per_data_dir_sweeps(client: TestClient, db: Database, tmp_path: Path) -> None:
    team = Team(client, db, 2, quality={"checks": TOO_FAST})
    team.member("ana")
    _label_fast(team, 2)
    workers = [BackgroundProcess(db.url, tmp_path / "shared", 0.2) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        assert _wait_for(lambda: _runs(db) >= 1)
        time.sleep(1.0)
    finally:
        for worker in workers:
            worker.stop()
    assert _runs(db) == 1 and _findings(db) == 2


def test_a_big_run_rests_before_the_next(client: TestClient, db: Database) -> None:
    now = [100.0]

    def clock() -> float:
        now[0] += 2.0  # every reading is two seconds on: a run "takes" 2 s
        return now[0]

    team = Team(client, db, 3, quality={"checks": TOO_FAST})
    team.member("ana")
    _label_fast(team, 1)
    sweeper = Sweeper(db, clock=clock)
    assert sweeper.sweep() == ["t"]
    _label_fast(team, 1)
    assert sweeper.sweep() == []  # new work, but within 10x the last run's duration
    now[0] += 60
    assert sweeper.sweep() == ["t"] and _findings(db) == 2
    assert sweeper.sweep() == []  # nothing new


def test_a_restarted_sweeper_runs_only_projects_with_new_work(
    client: TestClient, db: Database
) -> None:
    team = Team(client, db, 3, quality={"checks": TOO_FAST})
    team.member("ana")
    _label_fast(team, 1)
    assert Sweeper(db).sweep() == ["t"]
    assert Sweeper(db).sweep() == []  # a new process: the last event is that run
    _label_fast(team, 1)
    assert Sweeper(db).sweep() == ["t"] and _findings(db) == 2


def test_sweepers_in_threads_store_each_finding_once(client: TestClient, db: Database) -> None:
    team = Team(client, db, 6, quality={"checks": TOO_FAST})
    team.member("boss", Role.MANAGER)
    team.member("ana")
    _label_fast(team, 6)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def sweep() -> None:
        barrier.wait()
        try:
            Sweeper(db).sweep()
        except BaseException as error:  # the assert below reports it
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and _findings(db) == 6


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    yield
    assert not [p for p in multiprocessing.active_children() if p.name == "labelwise-background"]
