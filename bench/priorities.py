"""Benchmark: one bulk priorities call over N items (an active-learning ranking).

    python bench/priorities.py [--n 100000] [--database-url URL]

N items go in through the import service; then `priorities.set_priorities`, the call behind
`labelwise items priority` and `PUT /api/v1/projects/{slug}/priorities`, ranks every one of
them (plus 1% ids that are not there), twice: the first time every priority changes, the
second time the same ranking again. Timed is the call, reading the ranking from JSONL
included. Without --database-url the database is a SQLite file in a temporary directory;
with it, that database (empty or labelwise-migrated): the project made here is deleted.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import orjson
from sqlalchemy import delete

from labelwise.db.engine import Database
from labelwise.db.migrate import upgrade
from labelwise.db.models import Item, Project
from labelwise.formats import FORMATS, ParsedRow
from labelwise.services import imports, priorities, projects
from labelwise.spec import parse_spec

SPEC = {
    "name": "Priorities bench",
    "slug": f"priorities-{os.getpid()}",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["a", "b"]}],
}


def run(url: str, n: int, directory: Path) -> None:
    db = Database(url)
    upgrade(db.engine)
    spec = parse_spec(SPEC)
    project = projects.apply_spec(db, spec).project
    rows = (ParsedRow(i, {"id": f"it-{i}", "text": f"item {i}"}) for i in range(n))
    imports.import_items(db, project.id, spec, rows, source="bench")
    ranking = directory / "ranking.jsonl"
    rng = random.Random(7)
    ids = [f"it-{i}" for i in range(n)] + [f"gone-{i}" for i in range(n // 100)]
    rng.shuffle(ids)
    ranking.write_bytes(
        b"".join(orjson.dumps({"id": i, "priority": rng.random()}) + b"\n" for i in ids)
    )
    reader = FORMATS["jsonl"].read
    assert reader is not None
    try:
        for attempt in ("new ranking", "same ranking again"):
            start = time.perf_counter()
            with ranking.open("rb") as handle:
                result = priorities.set_priorities(db, project.id, reader(handle), source="bench")
            took = time.perf_counter() - start
            print(
                f"{db.engine.dialect.name:10} {attempt:18} {result.updated:,} set, "
                f"{len(result.unknown):,} unknown: {took:.2f} s, {len(ids) / took:,.0f} ids/s",
                flush=True,
            )
    finally:
        with db.write() as session:
            session.execute(delete(Item).where(Item.project_id == project.id))
            session.execute(delete(Project).where(Project.id == project.id))
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of items")
    parser.add_argument("--database-url", help="database to use (default: a SQLite file)")
    args = parser.parse_args()
    print(f"{args.n:,} items; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-") as temp:
        url = args.database_url or f"sqlite:///{temp}/labelwise.db"
        run(url, args.n, Path(temp))


if __name__ == "__main__":
    main()
