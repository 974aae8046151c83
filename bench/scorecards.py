"""Benchmark: an annotator's scorecard on projects of N items, beside the quality report.

    python bench/scorecards.py [--items 20000 [60000 ...]] [--database-url URL] [--seed 7]

The project is `releases.py`'s (support tickets, a 5-label question, a rating and a spans
question; 3 annotations per item from a pool of 50 annotators, bulk-inserted). For each size,
in fresh processes, it times `scorecard.build` for the busiest annotator and
`quality_report.build`, with each process's peak RSS beside its RSS once the modules were
loaded (base), so that memory growing with N shows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import releases
import steps


@dataclass(frozen=True)
class Step:
    name: str
    url: str
    slug: str


def _run(step: Step, results: Any) -> None:
    from sqlalchemy import func, select

    from labelwise.db.engine import Database
    from labelwise.db.models import Annotation, User
    from labelwise.policies import EVERYTHING
    from labelwise.services import projects
    from labelwise.services.reporting import quality_report, scorecard

    db = Database(step.url)
    project = projects.get(db, step.slug)
    spec = projects.spec_of(project)
    with db.read() as session:
        user_id, username = session.execute(
            select(User.id, User.username)
            .join(Annotation, Annotation.user_id == User.id)
            .where(Annotation.project_id == project.id)
            .group_by(User.id, User.username)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    base = steps.peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    if step.name == "scorecard":
        card = scorecard.build(db, project, spec, user_id, username, "annotator")
        detail = f"{card.annotations:,} annotations of {username}"
    else:
        report = quality_report.build(db, project, EVERYTHING)
        detail = f"{report.progress.annotations:,} annotations"
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.dispose()
    results.put((wall, cpu, base, steps.peak_rss_mb(), detail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20_000, 60_000])
    parser.add_argument("--database-url", help="PostgreSQL database (default: a SQLite temp file)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {releases.machine_load()}", flush=True)
    print("| items | step | wall s | CPU s | base MB | peak MB | what |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-scorecards-") as temp:
        for n in args.items:
            url = args.database_url or f"sqlite:///{Path(temp) / f'scorecards-{n}.db'}"
            slug = f"scorecard-bench-{n}"
            releases.set_up(url, slug, n, args.seed)
            try:
                for name in ("scorecard", "quality report"):
                    step = Step(name, url, slug)
                    wall, cpu, base, peak, detail = steps.in_child(_run, step, name)
                    print(
                        f"| {n:,} | {name} | {wall:.2f} | {cpu:.2f} | {base:.0f} | {peak:.0f} "
                        f"| {detail} |",
                        flush=True,
                    )
            finally:
                if args.database_url:
                    releases.forget(url, slug)
    print(f"\n{releases.machine_load()}")


if __name__ == "__main__":
    main()
