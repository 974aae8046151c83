"""Benchmark: import and export of N synthetic text items, on SQLite and on PostgreSQL.

    python bench/import_export.py [--n 1000000] [--pg-url URL | --no-pg] [--seed 7] [--pii]

The items are support tickets: about 200 characters of text made of ticket-like sentences
(each item unique), a `channel` and a `language`, and an external id. They are written once
as JSONL and as Parquet. Then, on each backend, each step runs in its own fresh process
(multiprocessing, spawn), which reports its wall time and its own peak RSS:

    import JSONL            into an empty project: every item new
    re-import JSONL         the same file again: every item already there (the idempotent path)
    import Parquet          the same items into a second, empty project
    export JSONL, Parquet   the first project to a file

With --pii, `pii.py` follows: the same kind of items, one in ten with PII, imported with PII
detection off and in each mode.

Timed is the work of the service the CLI calls (`imports.import_items` reading the file,
`exports.export` writing one), from opening the database to the last byte written; not timed
is the interpreter start, which the `labelwise` command adds once per run.

PostgreSQL: without --pg-url the script creates a scratch database on the server named by
LABELWISE_TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres) and
drops it at the end. With --pg-url it uses that database, which must hold nothing but an
empty or labelwise-migrated schema, and deletes the projects it made.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import steps

TARGETS = {"import": 50_000, "export": 100_000}  # items/s, on SQLite
RSS_TARGET_MB = 500
RSS_LIMIT = f"<{RSS_TARGET_MB} MB"
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1/postgres"
WRITE_BATCH = 100_000

# --- The synthetic items -------------------------------------------------------------------------

OPENERS = [
    "Hi team,",
    "Hello,",
    "Good morning.",
    "Urgent:",
    "Quick question -",
    "Following up on my last message:",
    "Not sure who to ask, but",
    "Dear support,",
]
PROBLEMS = [
    "I was charged twice for order {n} this month",
    "the mobile app crashes when I open the settings page",
    "my invoice {n} shows the wrong VAT number",
    "I cannot log in since the password reset yesterday",
    "the laptop I ordered (ref {n}) arrived with a cracked screen",
    "two-factor codes never reach my phone",
    "the website times out at checkout on Firefox",
    "my refund for order {n} has not arrived after 14 days",
    "I want to move my subscription to the yearly plan",
    "the export to CSV drops every row after the first thousand",
    "my account was locked after three attempts",
    "the tracking link for parcel {n} says unknown",
]
DETAILS = [
    "I already tried clearing the cache and reinstalling.",
    "This is the third time I am writing about it.",
    "Screenshots are attached.",
    "Please advise as soon as possible.",
    "It worked fine until last week's update.",
    "Could you check what is going on?",
    "My colleague has the same problem on Windows.",
    "I need this sorted before Friday.",
]
CLOSINGS = ["Thanks!", "Best regards, Sam", "Cheers", "Kind regards.", "Thank you in advance."]
CHANNELS = ["email", "chat", "phone", "web form"]
LANGUAGES = ["en", "en", "en", "de", "fr", "es"]
SPEC = {
    "fields": [
        {"name": "text", "type": "text"},
        {"name": "channel", "type": "metadata"},
        {"name": "language", "type": "metadata"},
    ],
    "questions": [
        {"name": "team", "type": "single_label", "labels": ["billing", "technical", "account"]},
        {"name": "urgency", "type": "rating", "min": 1, "max": 5},
    ],
}


def synthetic_items(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    pick = rng.choice
    for number in range(n):
        order = 100_000 + rng.randrange(900_000)
        text = " ".join(
            (
                pick(OPENERS),
                pick(PROBLEMS).format(n=order) + ".",
                pick(DETAILS),
                pick(DETAILS),
                pick(CLOSINGS),
                f"(ticket {number})",
            )
        )
        yield {
            "id": f"tk-{number}",
            "text": text,
            "channel": pick(CHANNELS),
            "language": pick(LANGUAGES),
        }


def write_inputs(directory: Path, n: int, seed: int) -> tuple[Path, Path]:
    """The same items as JSONL and as Parquet, written in batches to keep memory flat."""
    jsonl_path, parquet_path = directory / "items.jsonl", directory / "items.parquet"
    schema = pa.schema([(name, pa.string()) for name in ("id", "text", "channel", "language")])
    batch: list[dict[str, Any]] = []
    with jsonl_path.open("wb") as out, pq.ParquetWriter(parquet_path, schema) as parquet:
        for item in synthetic_items(n, seed):
            batch.append(item)
            if len(batch) == WRITE_BATCH:
                _write_batch(out, parquet, batch, schema)
        if batch:
            _write_batch(out, parquet, batch, schema)
    return jsonl_path, parquet_path


def _write_batch(
    out: Any, parquet: pq.ParquetWriter, batch: list[dict[str, Any]], schema: pa.Schema
) -> None:
    out.write(b"".join(orjson.dumps(item) + b"\n" for item in batch))
    parquet.write_table(pa.Table.from_pylist(batch, schema=schema))
    batch.clear()


# --- One step, in a fresh process ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str  # "import JSONL", ...
    kind: str  # "import" or "export"
    url: str
    slug: str
    path: str
    fmt: str


@dataclass(frozen=True)
class Outcome:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    created: int
    existing: int
    exported: int


def run_step(step: Step, results: Any) -> None:
    """The child process: do the step, send back its figures."""
    try:
        _load_modules()  # before the clock starts: `labelwise` pays this once per command
        started_cpu = time.process_time()
        if step.kind == "import":
            seconds, created, existing, exported = _import(step)
        else:
            seconds, exported = _export(step)
            created = existing = 0
        cpu = time.process_time() - started_cpu
        results.put(Outcome(seconds, cpu, steps.peak_rss_mb(), created, existing, exported))
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")


def _load_modules() -> None:
    import pyarrow.parquet  # noqa: F401  # its first writer also loads pandas: ~1 s, once

    from labelwise.db import engine, models  # noqa: F401
    from labelwise.services import exports, imports  # noqa: F401

    pq.ParquetWriter(pa.BufferOutputStream(), pa.schema([("x", pa.string())])).close()


def _project(db: Any, slug: str) -> tuple[Any, Any]:
    # The project row and its spec, read directly: `services.projects` would import the
    # accounts module, whose import computes an Argon2 hash (64 MiB) that is not ours to count.
    from sqlalchemy import select

    from labelwise.db.models import Project
    from labelwise.spec import parse_spec

    with db.read() as session:
        project = session.scalar(select(Project).where(Project.slug == slug))
    return project, parse_spec(project.spec)


def _import(step: Step) -> tuple[float, int, int, int]:
    from labelwise.db.engine import Database
    from labelwise.formats import FORMATS
    from labelwise.services import imports

    fmt = FORMATS[step.fmt]
    assert fmt.read is not None
    start = time.perf_counter()
    db = Database(step.url)
    project, spec = _project(db, step.slug)
    with open(step.path, "rb") as handle:
        summary = imports.import_items(
            db,
            project.id,
            spec,
            fmt.read(handle),
            source=Path(step.path).name,
            position_name=fmt.position,
        )
    seconds = time.perf_counter() - start
    db.dispose()
    return seconds, summary.created, summary.existing, 0


def _export(step: Step) -> tuple[float, int]:
    from labelwise.db.engine import Database
    from labelwise.formats import FORMATS
    from labelwise.policies import EVERYTHING
    from labelwise.services import exports

    fmt = FORMATS[step.fmt]
    start = time.perf_counter()
    db = Database(step.url)
    project, spec = _project(db, step.slug)
    with open(step.path, "wb") as out:
        fields = [f.name for f in spec.fields]
        for chunk in exports.export(db, project, fields, fmt, view=EVERYTHING):
            out.write(chunk)
    seconds = time.perf_counter() - start
    db.dispose()
    return seconds, _rows_in(Path(step.path), step.fmt)


def _rows_in(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def in_child(step: Step) -> Outcome:
    outcome = steps.in_child(run_step, step, step.name)
    assert isinstance(outcome, Outcome)
    return outcome


# --- A backend -----------------------------------------------------------------------------------


def prepare(url: str, slugs: list[str]) -> None:
    """Migrate the database and create empty projects (in this process: not timed)."""
    from labelwise.db.engine import Database
    from labelwise.db.migrate import upgrade
    from labelwise.services import projects
    from labelwise.spec import parse_spec

    db = Database(url)
    upgrade(db.engine)
    for slug in slugs:
        projects.apply_spec(db, parse_spec({**SPEC, "name": slug, "slug": slug}))
    db.dispose()


def forget(url: str, slugs: list[str]) -> None:
    """Delete the projects this run made (their items go with them)."""
    from sqlalchemy import delete, select

    from labelwise.db.engine import Database
    from labelwise.db.models import Item, Project

    db = Database(url)
    with db.write() as session:
        ids = list(session.scalars(select(Project.id).where(Project.slug.in_(slugs))))
        session.execute(delete(Item).where(Item.project_id.in_(ids)))
        session.execute(delete(Project).where(Project.id.in_(ids)))
    db.dispose()


@dataclass(frozen=True)
class Row:
    backend: str
    step: Step
    outcome: Outcome
    n: int


def bench_backend(
    backend: str, url: str, n: int, files: tuple[Path, Path, Path], *, keep_database: bool = False
) -> list[Row]:
    """The five steps on one database; with `keep_database`, its projects are deleted after."""
    jsonl, parquet, out = files
    slug, second = f"bench-{os.getpid()}", f"bench-{os.getpid()}-pq"
    prepare(url, [slug, second])
    steps = [
        Step("import JSONL", "import", url, slug, str(jsonl), "jsonl"),
        Step("re-import JSONL", "import", url, slug, str(jsonl), "jsonl"),
        Step("import Parquet", "import", url, second, str(parquet), "parquet"),
        Step("export JSONL", "export", url, slug, str(out / f"{backend}.jsonl"), "jsonl"),
        Step("export Parquet", "export", url, slug, str(out / f"{backend}.parquet"), "parquet"),
    ]
    rows = []
    try:
        for step in steps:
            print(f"  {backend}: {step.name} ...", flush=True)
            outcome = in_child(step)
            check(step, outcome, n)
            rows.append(Row(backend, step, outcome, n))
            if step.kind == "export":
                Path(step.path).unlink()
    finally:
        if keep_database:
            forget(url, [slug, second])
    return rows


def check(step: Step, outcome: Outcome, n: int) -> None:
    """The figures count only if the work was right."""
    expected = {
        "import JSONL": (n, 0, 0),
        "re-import JSONL": (0, n, 0),
        "import Parquet": (n, 0, 0),
    }.get(step.name, (0, 0, n))
    got = (outcome.created, outcome.existing, outcome.exported)
    if got != expected:
        raise RuntimeError(f"{step.name}: (new, existing, exported) = {got}, expected {expected}")


def bench_sqlite(path: Path, n: int, files: tuple[Path, Path, Path]) -> list[Row]:
    """The steps on a new SQLite file, removed afterwards (a 1M-item run leaves ~600 MB)."""
    try:
        return bench_backend("SQLite", f"sqlite:///{path}", n, files)
    finally:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


@contextlib.contextmanager
def scratch_pg_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of `server_url`, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    from labelwise.db.engine import normalize_url

    url = make_url(normalize_url(server_url))
    name = f"labelwise_bench_{os.getpid()}"
    maintenance = url.set(drivername="postgresql", database="postgres")
    dsn = maintenance.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Report --------------------------------------------------------------------------------------


def report(rows: list[Row], load: float) -> None:
    """One line per backend and step: the fastest run, and the highest peak RSS of all runs."""
    runs: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        runs.setdefault((row.backend, row.step.name), []).append(row)
    print()
    print(
        f"{'backend':<11} {'step':<16} {'items':>9} {'seconds':>8} {'items/s':>9} "
        f"{'target':>9}      {'cpu s':>6} {'items/cpu s':>11} {'peak RSS':>9} {'target':>8}"
    )
    for (backend, _), same in runs.items():
        best = min(same, key=lambda row: row.outcome.seconds)
        peak = max(row.outcome.peak_rss_mb for row in same)
        rate = best.n / best.outcome.seconds
        target = TARGETS[best.step.kind] if backend == "SQLite" else None
        rate_mark = "" if target is None else (" ok" if rate >= target else " MISS")
        rss_mark = " ok" if peak < RSS_TARGET_MB else " MISS"
        cpu = best.outcome.cpu_seconds
        print(
            f"{backend:<11} {best.step.name:<16} {best.n:>9,} {best.outcome.seconds:>8.2f} "
            f"{rate:>9,.0f} {(f'≥{target:,}' if target else '-'):>9}{rate_mark:<5} "
            f"{cpu:>6.1f} {best.n / cpu:>11,.0f} {peak:>6.0f} MB {RSS_LIMIT:>8}{rss_mark}"
        )
    print(
        "\ncpu s: CPU time of the step's own process, all its threads (not PostgreSQL's)."
        "\nSQLite steps hardly wait on this disk, so on an idle machine a step's wall time is at"
        "\nmost its CPU time: with other work running (load average now "
        f"{load:.1f} on {os.cpu_count()} CPUs),"
        "\nitems/cpu s is the steadier figure to read against the targets."
        "\nFor scale, measured on this machine: Label Studio 1.23 imports 3,000-4,500 items/s and"
        "\nexports ~500 items/s, with 900 MB of memory for a 100k-task export."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of items")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-url", help="PostgreSQL database to use (default: a scratch one)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs, each on a fresh database; the best is shown"
    )
    parser.add_argument(
        "--pii", action="store_true", help="then import with PII detection off and on (pii.py)"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"{args.n:,} items; {os.cpu_count()} CPUs; load average {load[0]:.1f}", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-") as temp:
        directory = Path(temp)
        started = time.perf_counter()
        jsonl, parquet = write_inputs(directory, args.n, args.seed)
        sizes = [path.stat().st_size / 1e6 for path in (jsonl, parquet)]
        took = time.perf_counter() - started
        print(f"wrote {sizes[0]:.0f} MB of JSONL, {sizes[1]:.0f} MB of Parquet in {took:.0f} s")
        files = (jsonl, parquet, directory)
        for run in range(args.repeat):
            rows += bench_sqlite(directory / f"labelwise-{run}.db", args.n, files)
            if args.pg_url and not args.no_pg:
                rows += bench_backend("PostgreSQL", args.pg_url, args.n, files, keep_database=True)
            elif not args.no_pg:
                server = os.environ.get("LABELWISE_TEST_DATABASE_URL", DEFAULT_PG_SERVER)
                with scratch_pg_database(server) as url:
                    rows += bench_backend("PostgreSQL", url, args.n, files)
        report(rows, os.getloadavg()[0])
        if args.pii:
            import pii

            print("\nPII detection at import (bench/pii.py):", flush=True)
            pii.run(
                args.n,
                args.seed,
                directory,
                repeat=args.repeat,
                pg_url=args.pg_url,
                no_pg=args.no_pg,
            )


if __name__ == "__main__":
    main()
