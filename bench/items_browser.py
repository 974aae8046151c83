"""Benchmark: items browser page loads over N items, filter by filter.

    python bench/items_browser.py [--n 1000000] [--pages 200] [--database-url URL]

N items go in through the import service (a `channel` slice of 4 values); then, straight
through the DB layer, 10% of them get two annotations (one in 20 of those pairs disagrees),
their status is set to done, 0.1% become gold items and 1% get a `too_fast` finding. Timed is
`item_browser.browse`, the call behind the page and `GET /api/v1/projects/{slug}/items`, with a
page of 50: the first page, and pages starting at random item ids, per filter. Printed are p50
and p99 in ms and the matching rows per page (a page examines at most WINDOW items, so a rare
filter gives short pages at the same cost). Without --database-url the database is a SQLite
file in a temporary directory; with it, that database: the project made here is deleted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from typing import Any

from sqlalchemy import delete, insert, select, text, update

from labelwise.db.engine import Database
from labelwise.db.migrate import upgrade
from labelwise.db.models import (
    Annotation,
    CheckFinding,
    GoldAnswer,
    Item,
    Membership,
    Project,
    User,
)
from labelwise.formats import ParsedRow
from labelwise.policies import EVERYTHING
from labelwise.services import imports, item_browser, projects
from labelwise.services.item_browser import ItemFilter
from labelwise.spec import parse_spec

SLUG = f"browse-{os.getpid()}"
SPEC = {
    "name": "Items browser bench",
    "slug": SLUG,
    "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "tech"]}],
}
CHANNELS = ["email", "chat", "phone", "web"]
BATCH = 20_000
FILTERS = {
    "none": ItemFilter(),
    "status=done": ItemFilter(status="done"),
    "label team=tech": ItemFilter(question="team", label="tech"),
    "annotator": ItemFilter(annotator=f"{SLUG}-a0"),
    "slice channel=chat": ItemFilter(slice_field="channel", slice_value="chat"),
    "check too_fast": ItemFilter(check="too_fast"),
    "disagreement": ItemFilter(disagreement=True),
    "gold": ItemFilter(gold=True),
    "text 'item 12345'": ItemFilter(text="item 12345"),
    "status+slice+label": ItemFilter(
        status="done", slice_field="channel", slice_value="email", question="team", label="billing"
    ),
}


def seed(db: Database, n: int) -> Project:
    spec = parse_spec(SPEC)
    project = projects.apply_spec(db, spec).project
    rows = (
        ParsedRow(i, {"id": f"b-{i}", "text": f"item {i}", "channel": CHANNELS[i % 4]})
        for i in range(n)
    )
    imports.import_items(db, project.id, spec, rows, source="bench")
    with db.write() as session:
        session.execute(
            insert(User), [{"username": f"{SLUG}-a{i}", "password_hash": "-"} for i in range(2)]
        )
        users = list(session.scalars(select(User.id).where(User.username.like(f"{SLUG}-a%"))))
        session.execute(
            insert(Membership),
            [{"project_id": project.id, "user_id": u, "role": "annotator"} for u in users],
        )
        ids = list(session.scalars(select(Item.id).where(Item.project_id == project.id)))
        labeled = ids[::10]
        for start in range(0, len(labeled), BATCH):
            chunk = labeled[start : start + BATCH]
            session.execute(insert(Annotation), _annotations(project.id, chunk, users))
            session.execute(update(Item).where(Item.id.in_(chunk)).values(status="done"))
        session.execute(
            insert(GoldAnswer),
            [
                {"item_id": i, "project_id": project.id, "answers": {"team": "billing"}}
                for i in ids[5::1000]
            ],
        )
        session.execute(
            insert(CheckFinding),
            [
                {"project_id": project.id, "check": "too_fast", "item_id": i, "message": "fast"}
                for i in labeled[::10]
            ],
        )
    if not db.is_sqlite:  # give the planner statistics
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE items; ANALYZE annotations; ANALYZE check_findings")
            )
    return project


def _annotations(project_id: int, item_ids: list[int], users: list[int]) -> list[dict[str, Any]]:
    rows = []
    for position, item_id in enumerate(item_ids):
        for n, user in enumerate(users):
            differs = n == 1 and position % 20 == 0
            label = "tech" if (item_id % 3 == 0) != differs else "billing"
            rows.append(
                {
                    "project_id": project_id,
                    "item_id": item_id,
                    "user_id": user,
                    "answers": {"team": label},
                    "time_ms": 3000,
                }
            )
    return rows


def measure(db: Database, project: Project, pages: int) -> None:
    spec = projects.spec_of(project)
    with db.read() as session:
        low, high = session.execute(
            text("SELECT min(id), max(id) FROM items WHERE project_id = :p"), {"p": project.id}
        ).one()
    rng = random.Random(11)
    starts = [0] + [rng.randint(low, high) for _ in range(pages - 1)]
    print(f"{'filter':22} {'p50 ms':>8} {'p99 ms':>8} {'rows/page':>10}")
    for name, wanted in FILTERS.items():
        times, rows = [], 0
        for after in starts:
            start = time.perf_counter()
            page = item_browser.browse(
                db, project.id, spec, wanted, view=EVERYTHING, after=after, limit=50
            )
            times.append((time.perf_counter() - start) * 1000)
            rows += len(page.items)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{name:22} {statistics.median(times):8.1f} {p99:8.1f} {rows / len(starts):10.1f}",
            flush=True,
        )


def cleanup(db: Database, project: Project) -> None:
    with db.write() as session:
        session.execute(delete(Project).where(Project.id == project.id))
        session.execute(delete(User).where(User.username.like(f"{SLUG}-a%")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of items")
    parser.add_argument("--pages", type=int, default=200, help="page loads per filter")
    parser.add_argument("--database-url", help="database to use (default: a SQLite file)")
    args = parser.parse_args()
    print(f"{args.n:,} items; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-") as temp:
        db = Database(args.database_url or f"sqlite:///{temp}/labelwise.db")
        upgrade(db.engine)
        started = time.perf_counter()
        project = seed(db, args.n)
        print(f"{db.engine.dialect.name}: seeded in {time.perf_counter() - started:.0f} s")
        try:
            measure(db, project, args.pages)
        finally:
            cleanup(db, project)
            db.dispose()


if __name__ == "__main__":
    main()
