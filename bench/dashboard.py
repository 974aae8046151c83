"""Benchmark: the project dashboard of a 1M-item, 3M-annotation project.

    python bench/dashboard.py [--items 1000000] [--database-url URL] [--seed 7] [--repeat 5]
                              [--keep PATH]

The project: tickets with a `channel` and a `language` slice, a 5-label single_label question
and a rating 1-5. Each item has 3 annotations from a pool of 50 annotators spread over 60 days,
with times on item from 1 s to 2 min, under guideline versions 1-3; one annotation in 20 is
reviewed, one item in 20 has a gold answer, and the checks found one answer in 300. Everything
goes in with bulk Core inserts on the database layer (the workflow would take days), then
ANALYZE (VACUUM ANALYZE on PostgreSQL), as after a real import. On SQLite the dashboard's
counting triggers run on every row; on PostgreSQL (where they would take an hour here) they are
off for the load and the counts are made from the rows afterwards, by the statements migration
0013 uses.

Then the page is loaded through the ASGI app, logged in as the owner: the first load, and the
best and median of --repeat more. The dashboard's queries are also timed one by one, so a slow
one shows. Without --database-url the database is a SQLite file in a temporary directory (or
--keep PATH, reused when it already holds the project); with it, that database (empty or
labelwise-migrated): the project and users made here are deleted at the end.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SLUG = "dash-bench"
LABELS = ["billing", "technical", "account", "shipping", "other"]
CHANNELS = ["email", "chat", "phone", "web form"]
LANGUAGES = ["en", "de", "fr", "ja"]
ANNOTATORS = 50
REVIEWERS = 3
OVERLAP = 3
DAYS = 60
BATCH = 20_000
START = datetime(2026, 9, 1, tzinfo=UTC)
SPEC = {
    "name": "Dashboard bench",
    "slug": SLUG,
    "fields": [
        {"name": "text", "type": "text"},
        {"name": "channel", "type": "metadata"},
        {"name": "language", "type": "metadata"},
    ],
    "questions": [
        {"name": "category", "type": "single_label", "labels": LABELS},
        {"name": "urgency", "type": "rating", "min": 1, "max": 5},
    ],
    "workflow": {"overlap": OVERLAP},
    "quality": {"agreement_target": {"metric": "krippendorff_alpha", "min": 0.8}},
}


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _items(project_id: int, n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    done = n * 9 // 10
    for number in range(n):
        finished = START + timedelta(seconds=DAYS * 86_400 * number / done, hours=2)
        yield {
            "project_id": project_id,
            "external_id": f"t-{number}",
            "data": {
                "text": f"ticket {number}",
                "channel": rng.choice(CHANNELS),
                "language": rng.choice(LANGUAGES),
            },
            # The last tenth is still waiting for annotators.
            "status": "done" if number < n * 9 // 10 else "new",
            "slots_used": OVERLAP if number < n * 9 // 10 else 0,
            "created_at": START,
            "done_at": finished if number < done else None,
        }


def _annotations(
    project_id: int, item_ids: list[int], users: list[int], rng: random.Random
) -> Iterator[dict[str, Any]]:
    """3 annotations on each of the first 9/10 of the items, 3 more per item on the first tenth
    stand in for the open items' partial work: 3 per item on average, 1M items -> 3M."""
    skills = [rng.uniform(0.6, 0.95) for _ in users]
    done = len(item_ids) * 9 // 10
    extra = len(item_ids) - done  # annotations spread over the first items to reach 3 per item
    seconds = DAYS * 86_400
    for position, item_id in enumerate(item_ids[:done]):
        truth = rng.choices(LABELS, weights=[35, 25, 20, 12, 8])[0]
        urgency = rng.randint(1, 5)
        moment = START + timedelta(seconds=seconds * position / done)
        count = OVERLAP + (OVERLAP if position < extra else 0)
        for who in rng.sample(range(len(users)), min(count, len(users))):
            at = moment + timedelta(seconds=rng.randrange(3600))
            yield {
                "project_id": project_id,
                "item_id": item_id,
                "user_id": users[who],
                "answers": {
                    "category": truth if rng.random() < skills[who] else rng.choice(LABELS),
                    "urgency": min(5, max(1, urgency + rng.choice((-1, 0, 0, 1)))),
                },
                "time_ms": int(min(120_000, rng.lognormvariate(9.3, 0.6))),
                "created_at": at,
                "updated_at": at,
                "guideline_version": 1 + 3 * position // done,
                "review_status": "submitted",
            }


def set_up(url: str, n: int, seed: int) -> float:
    """Migrate, and bulk-insert the project, its people, items, annotations, reviews, gold
    answers and check findings."""
    from sqlalchemy import insert, select, text

    from labelwise.db.engine import Database
    from labelwise.db.migrate import upgrade
    from labelwise.db.models import (
        Annotation,
        Item,
        Membership,
        User,
    )
    from labelwise.services import accounts, projects
    from labelwise.spec import parse_spec

    started = time.perf_counter()
    rng = random.Random(seed)
    db = Database(url)
    upgrade(db.engine)
    project = projects.apply_spec(db, parse_spec(SPEC)).project
    accounts.create_user(db, f"{SLUG}-owner", "bench-password-1")
    with db.write() as session:
        names = [f"{SLUG}-a{i:02}" for i in range(ANNOTATORS)]
        names += [f"{SLUG}-r{i}" for i in range(REVIEWERS)]
        session.execute(insert(User), [{"username": u, "password_hash": "-"} for u in names])
        ids = dict(
            session.execute(
                select(User.username, User.id).where(User.username.like(f"{SLUG}-%"))
            ).all()
        )
        roles = {f"{SLUG}-owner": "owner"} | {
            name: "reviewer" if "-r" in name else "annotator" for name in names
        }
        session.execute(
            insert(Membership),
            [{"project_id": project.id, "user_id": ids[u], "role": r} for u, r in roles.items()],
        )
    annotators = [ids[f"{SLUG}-a{i:02}"] for i in range(ANNOTATORS)]
    reviewers = [ids[f"{SLUG}-r{i}"] for i in range(REVIEWERS)]
    with db.write() as session:
        if not db.is_sqlite:  # row triggers off for the bulk load; the counts are made after
            session.execute(text("SET LOCAL session_replication_role = replica"))
        for batch in _batches(_items(project.id, n, rng)):
            session.execute(insert(Item), batch)
        item_ids = list(
            session.scalars(select(Item.id).where(Item.project_id == project.id).order_by(Item.id))
        )
        for batch in _batches(_annotations(project.id, item_ids, annotators, rng)):
            session.execute(insert(Annotation), batch)
        _extras(session, project.id, item_ids, reviewers, rng)
        if not db.is_sqlite:
            for statement in _counts_backfill():
                session.execute(text(statement))
    # This PostgreSQL runs without autovacuum: do what it would have done after a bulk load.
    settle = "ANALYZE" if db.is_sqlite else "VACUUM ANALYZE"
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(settle))
    db.dispose()
    return time.perf_counter() - started


def _counts_backfill() -> list[str]:
    """The dashboard counts made from the rows, as migration 0013 makes them (PostgreSQL)."""
    import importlib.util

    from labelwise.db.migrate import MIGRATIONS

    path = MIGRATIONS / "versions" / "0016_dashboard.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    statements: list[str] = migration._backfill("postgresql")
    return statements


def _extras(
    session: Any, project_id: int, item_ids: list[int], reviewers: list[int], rng: random.Random
) -> None:
    """Reviews of one annotation in 20, gold answers on one item in 20, a finding per 300."""
    from sqlalchemy import insert, select

    from labelwise.db.models import Annotation, CheckFinding, GoldAnswer, Review

    verdicts = ["accept"] * 8 + ["reject", "correct"]
    checks = ["too_fast", "straight_lining", "out_of_range"]
    reviews, findings = [], []
    rows = session.execute(
        select(Annotation.id, Annotation.item_id, Annotation.created_at)
        .where(Annotation.project_id == project_id)
        .order_by(Annotation.id)
    )
    for annotation_id, item_id, at in rows:
        if annotation_id % 20 == 0:
            reviews.append(
                {
                    "project_id": project_id,
                    "item_id": item_id,
                    "annotation_id": annotation_id,
                    "revision": 1,
                    "reviewer_id": rng.choice(reviewers),
                    "verdict": rng.choice(verdicts),
                    "created_at": at + timedelta(hours=2),
                }
            )
        if annotation_id % 300 == 0:
            findings.append(
                {
                    "project_id": project_id,
                    "check": rng.choice(checks),
                    "item_id": item_id,
                    "annotation_id": annotation_id,
                    "message": "bench finding",
                }
            )
    for batch in _batches(iter(reviews)):
        session.execute(insert(Review), batch)
    for batch in _batches(iter(findings)):
        session.execute(insert(CheckFinding), batch)
    gold = (
        {"item_id": item_id, "project_id": project_id, "answers": {"category": rng.choice(LABELS)}}
        for item_id in item_ids[::20]
    )
    for batch in _batches(gold):
        session.execute(insert(GoldAnswer), batch)


def has_project(url: str) -> bool:
    from sqlalchemy import inspect, select

    from labelwise.db.engine import Database
    from labelwise.db.models import Project

    db = Database(url)
    try:
        if "projects" not in inspect(db.engine).get_table_names():
            return False
        with db.read() as session:
            return session.scalar(select(Project.id).where(Project.slug == SLUG)) is not None
    finally:
        db.dispose()


def forget(url: str) -> None:
    from sqlalchemy import delete

    from labelwise.db.engine import Database
    from labelwise.db.models import Project, User

    db = Database(url)
    with db.write() as session:
        session.execute(delete(Project).where(Project.slug == SLUG))
        session.execute(delete(User).where(User.username.like(f"{SLUG}-%")))
    db.dispose()


def measure(url: str, data_dir: Path, repeat: int, recompute: bool) -> None:
    """Page loads through the ASGI app (HTTP in process), logged in as the owner."""
    import re

    from fastapi.testclient import TestClient

    from labelwise.app import create_app
    from labelwise.db.engine import Database
    from labelwise.services import projects
    from labelwise.services.reporting import dashboard, dashboard_quality
    from labelwise.settings import Settings

    db = Database(url)
    settings = Settings(data_dir=data_dir, database_url=url)
    project = projects.get(db, SLUG)
    if recompute:
        started = time.perf_counter()
        figures = dashboard_quality.recompute(db, project)
        print(
            f"quality figures recomputed: {time.perf_counter() - started:.1f} s "
            f"({figures.annotations:,} annotations)"
        )
    with TestClient(create_app(settings, db), base_url="http://bench") as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', login)
        assert token
        form = {
            "username": f"{SLUG}-owner",
            "password": "bench-password-1",
            "csrf_token": token.group(1),
        }
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        times, cpu = [], []
        for _ in range(repeat + 1):
            started, used = time.perf_counter(), _cpu()
            page = client.get(f"/projects/{SLUG}/dashboard")
            times.append(time.perf_counter() - started)
            cpu.append(_cpu() - used)
            assert page.status_code == 200, page.text[:500]
        charts = page.text.count("<svg ")
        print(
            f"page: first {times[0] * 1000:.0f} ms, then best {min(times[1:]) * 1000:.0f} ms, "
            f"median {statistics.median(times[1:]) * 1000:.0f} ms over {repeat}; CPU (this "
            f"process: client, app and SQLite) median {statistics.median(cpu[1:]) * 1000:.0f} ms; "
            f"{len(page.content) / 1024:.0f} KiB, {charts} charts"
        )
    started = time.perf_counter()
    board = dashboard.build(db, project)
    took = time.perf_counter() - started
    annotations = sum(person.annotations for person in board.work.annotators)
    print(
        f"dashboard.build alone: {took * 1000:.0f} ms; {board.work.items:,} items, "
        f"{annotations:,} annotations, {len(board.work.days)} days, "
        f"quality figures {'shown' if board.quality else 'not computed yet'}"
    )
    db.dispose()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="a SQLite file to reuse (made if missing)")
    parser.add_argument(
        "--recompute", action="store_true", help="compute the quality figures first (minutes)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "dashboard.db"
        url = args.database_url or f"sqlite:///{path}"
        if has_project(url):
            print(f"reusing the project in {url}")
        else:
            seconds = set_up(url, args.items, args.seed)
            made = f"{args.items:,} items, {args.items * OVERLAP:,} annotations"
            print(f"set up {made}: {seconds:.0f} s")
        measure(url, Path(scratch) / "data", args.repeat, args.recompute)
        if args.database_url:
            forget(url)


if __name__ == "__main__":
    main()
