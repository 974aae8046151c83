"""Benchmark: dataset releases of N finished items: freeze, export to every format, verify, diff.

    python bench/releases.py [--items 200000 [50000 ...]] [--database-url URL] [--seed 7]
                             [--profile STEP]

The project: support tickets (about 150 characters of text naming a person and a city, a
`channel` metadata field), a single_label question with 5 labels, a rating 1-5 and a spans
question on the text. Each item has 3 annotations from a pool of 50 annotators of mixed
accuracy, and every item is `done`. Items go in through the import service; annotators,
memberships and annotations with bulk Core inserts (the HTTP workflow would take hours).

Then each step runs in its own fresh process (multiprocessing, spawn), which reports its wall
time, its CPU time and its peak RSS, beside its RSS once the modules were loaded (base):

    create majority, create dawid-skene   `releases.create`
    create v2                             after ~1% of the items got an adjudicated answer
    export FORMAT [soft+annotators]       `releases.export_to` of the majority release
    export jsonl again                    the same export again: its SHA-256 must not change
    verify                                `releases.verify`
    diff v1 v2                            `releases.diff`: it must count exactly the 1% changed

With several --items the same steps run on each size, so that a step whose peak RSS grows
with N shows. Without --database-url the database is a SQLite file in a temporary directory;
with it, that database (it must hold nothing but an empty or labelwise-migrated schema): the
projects and users made here are deleted at the end. --skip EXPORT leaves exports out (spaCy
tokenizes every text: at 200,000 items it takes many minutes). --profile STEP runs the steps
whose name contains STEP under cProfile and prints their top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import steps

LABELS = ["billing", "technical", "account", "shipping", "other"]
CHANNELS = ["email", "chat", "phone", "web form"]
ANNOTATORS = 50
OVERLAP = 3
CHANGED_SHARE = 0.01  # items given an adjudicated answer between v1 and v2
INSERT_BATCH = 10_000
GROWTH_MB = 50  # peak RSS above base that grows by more than this with N is reported
SPEC = {
    "fields": [
        {"name": "text", "type": "text"},
        {"name": "channel", "type": "metadata"},
    ],
    "questions": [
        {"name": "category", "type": "single_label", "labels": LABELS},
        {"name": "urgency", "type": "rating", "min": 1, "max": 5},
        {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "LOC", "ORG"]},
    ],
    "workflow": {"overlap": OVERLAP},
}

# --- The synthetic project -----------------------------------------------------------------------

OPENERS = ["Hi team,", "Hello,", "Urgent:", "Quick question -", "Dear support,", "Good morning."]
PEOPLE = ["Maria Lopez", "Sam", "Jean-Paul Martin", "Aiko Tanaka", "Olu Adeyemi", "Priya Nair"]
CITIES = ["Berlin", "Lagos", "Osaka", "Lyon", "San Diego", "Pune", "Porto"]
PROBLEMS = [
    "was charged twice for order {n}",
    "cannot log in since the password reset",
    "got a laptop (ref {n}) with a cracked screen",
    "never receives the two-factor codes",
    "is still waiting for the refund of order {n}",
    "sees the tracking link for parcel {n} say unknown",
]


def synthetic_item(number: int, rng: random.Random) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """An item and the (start, end) of its person and its city in the text."""
    person, city = rng.choice(PEOPLE), rng.choice(CITIES)
    head = f"{rng.choice(OPENERS)} {person} from "
    problem = rng.choice(PROBLEMS).format(n=100_000 + rng.randrange(900_000))
    text = f"{head}{city} {problem}. Please advise. (ticket {number})"
    start = len(head) - len(" from ") - len(person)
    marks = [(start, start + len(person)), (len(head), len(head) + len(city))]
    item = {"id": f"tk-{number}", "text": text, "channel": rng.choice(CHANNELS)}
    return item, marks


def synthetic_answers(
    marks: list[tuple[int, int]], truth: str, urgency: int, skill: float, rng: random.Random
) -> dict[str, Any]:
    """One annotator's answers: the category right with probability `skill`, the urgency
    off by one now and then, each span marked 9 times in 10 (and 1 in 20 a character short)."""
    spans = []
    for (start, end), label in zip(marks, ("PER", "LOC"), strict=True):
        if rng.random() < 0.9:
            short = 1 if rng.random() < 0.05 else 0
            spans.append({"start": start, "end": end - short, "label": label})
    return {
        "category": truth if rng.random() < skill else rng.choice(LABELS),
        "urgency": min(5, max(1, urgency + rng.choice((-1, 0, 0, 0, 1)))),
        "entities": sorted(spans, key=lambda s: (s["start"], s["end"], s["label"])),
    }


Annotated = tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]


def annotated_items(n: int, seed: int) -> Iterator[Annotated]:
    """Each item with its 3 (annotator index, answers): the same for the same seed."""
    rng = random.Random(seed)
    skills = [rng.uniform(0.55, 0.95) for _ in range(ANNOTATORS)]
    for number in range(n):
        item, marks = synthetic_item(number, rng)
        truth = rng.choices(LABELS, weights=[35, 25, 20, 12, 8])[0]
        urgency = rng.randint(1, 5)
        given = [
            (who, synthetic_answers(marks, truth, urgency, skills[who], rng))
            for who in rng.sample(range(ANNOTATORS), OVERLAP)
        ]
        yield item, given


# --- Setting up a backend (in this process, not timed) -------------------------------------------


def set_up(url: str, slug: str, n: int, seed: int) -> float:
    """Migrate, create the project, import its items and bulk-insert people and annotations."""
    from sqlalchemy import insert, select, text, update

    from labelwise.db.engine import Database
    from labelwise.db.migrate import upgrade
    from labelwise.db.models import Annotation, Item, Membership, User
    from labelwise.formats import ParsedRow
    from labelwise.services import imports, projects
    from labelwise.spec import parse_spec

    started = time.perf_counter()
    db = Database(url)
    upgrade(db.engine)
    spec = parse_spec({**SPEC, "name": f"Release bench {n:,}", "slug": slug})
    project = projects.apply_spec(db, spec).project
    items = (
        ParsedRow(number + 1, item, None)
        for number, (item, _) in enumerate(annotated_items(n, seed))
    )
    summary = imports.import_items(db, project.id, spec, items, source="bench")
    assert summary.created == n, summary
    with db.write() as session:
        people = [{"username": f"{slug}-a{i:02}", "password_hash": "-"} for i in range(ANNOTATORS)]
        session.execute(insert(User), people)
        user_ids = list(
            session.scalars(
                select(User.id).where(User.username.like(f"{slug}-a%")).order_by(User.username)
            )
        )
        session.execute(
            insert(Membership),
            [{"project_id": project.id, "user_id": uid, "role": "annotator"} for uid in user_ids],
        )
        connection = session.connection()
        item_ids = connection.scalars(
            select(Item.id).where(Item.project_id == project.id).order_by(Item.id)
        )
        batch: list[dict[str, Any]] = []
        for item_id, (_, given) in zip(item_ids, annotated_items(n, seed), strict=True):
            for who, answers in given:
                batch.append(
                    {
                        "project_id": project.id,
                        "item_id": item_id,
                        "user_id": user_ids[who],
                        "answers": answers,
                        "time_ms": 4000 + 37 * (item_id % 300),
                    }
                )
            if len(batch) >= INSERT_BATCH:
                session.execute(insert(Annotation), batch)
                batch.clear()
        if batch:
            session.execute(insert(Annotation), batch)
        session.execute(
            update(Item)
            .where(Item.project_id == project.id)
            .values(status="done", slots_used=OVERLAP)
        )
    if not db.is_sqlite:  # this server runs without autovacuum: give the planner statistics
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE items; ANALYZE annotations")
            )
    db.dispose()
    return time.perf_counter() - started


def adjudicate_some(url: str, slug: str, release: str) -> int:
    """Give ~1% of the items an adjudicated category unlike the one `release` froze."""
    import orjson
    from sqlalchemy import select, update

    from labelwise.db.engine import Database
    from labelwise.db.models import Item, Project
    from labelwise.db.release_models import Release, ReleaseRowRecord

    db = Database(url)
    step = round(1 / CHANGED_SHARE)
    with db.write() as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == slug))
        release_id = session.scalar(
            select(Release.id).where(Release.project_id == project_id, Release.name == release)
        )
        frozen = session.execute(
            select(ReleaseRowRecord.item_id, ReleaseRowRecord.row)
            .where(ReleaseRowRecord.release_id == release_id)
            .order_by(ReleaseRowRecord.item_id)
        )
        changes = []
        for position, (item_id, row) in enumerate(frozen):
            if position % step == 0:
                before = orjson.loads(row)["answers"]["category"]
                after = LABELS[(LABELS.index(before) + 1) % len(LABELS)] if before else LABELS[0]
                changes.append((item_id, after))
        for item_id, after in changes:
            session.execute(
                update(Item).where(Item.id == item_id).values(final_answers={"category": after})
            )
    db.dispose()
    return len(changes)


def forget(url: str, slug: str) -> None:
    """Delete the project this run made (items, annotations and releases go with it) and users."""
    from sqlalchemy import delete, select

    from labelwise.db.engine import Database
    from labelwise.db.models import Project, User

    db = Database(url)
    with db.write() as session:
        session.execute(delete(Project).where(Project.slug == slug))
    with db.write() as session:
        session.execute(delete(User).where(User.username.like(f"{slug}-a%")))
        assert session.scalar(select(Project.id).where(Project.slug == slug)) is None
    db.dispose()


# --- One step, in a fresh process ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # create, export, verify, diff
    url: str
    slug: str
    release: str
    method: str = ""  # create: the method; diff: the other release
    fmt: str = ""
    soft: bool = False
    annotators: bool = False
    out: str = ""
    profile: bool = False


@dataclass(frozen=True)
class Outcome:
    seconds: float
    cpu_seconds: float
    base_rss_mb: float
    peak_rss_mb: float
    count: int  # rows frozen, written, verified or compared
    detail: str  # what the step found: the hash, the file size, the diff counts
    sha256: str = ""


def run_step(step: Step, results: Any) -> None:
    """The child process: do the step, send back its figures."""
    try:
        _load_modules(step)
        base = steps.peak_rss_mb()
        profiler = cProfile.Profile() if step.profile else None
        started_cpu, started = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        count, detail = STEPS[step.kind](step)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        peak = steps.peak_rss_mb()
        digest = _sha256(Path(step.out)) if step.kind == "export" else ""
        if profiler:
            print(f"\n--- profile: {step.name} ---", flush=True)
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("tottime").print_stats(20)
            stats.sort_stats("cumulative").print_stats(25)
        results.put(Outcome(seconds, cpu, base, peak, count, detail, digest))
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")


def _load_modules(step: Step) -> None:
    """Imports before the clock starts: a command pays them once, whatever the data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from labelwise.db import engine, models  # noqa: F401
    from labelwise.services import dataset_card, releases  # noqa: F401

    pq.ParquetWriter(pa.BufferOutputStream(), pa.schema([("x", pa.string())])).close()
    if step.fmt == "spacy":
        import spacy

        spacy.blank("en")


def _open(step: Step) -> tuple[Any, Any]:
    from sqlalchemy import select

    from labelwise.db.engine import Database
    from labelwise.db.models import Project

    db = Database(step.url)
    with db.read() as session:
        project = session.scalar(select(Project).where(Project.slug == step.slug))
    return db, project


def _create(step: Step) -> tuple[int, str]:
    from labelwise.services import releases

    db, project = _open(step)
    info = releases.create(db, project, step.release, step.method, actor_id=None)
    return info.items, f"hash {info.content_hash[:12]}"


def _export(step: Step) -> tuple[int, str]:
    from labelwise.formats import FORMATS
    from labelwise.policies import EVERYTHING
    from labelwise.services import releases

    db, project = _open(step)
    out = Path(step.out)
    releases.export_to(
        db,
        project,
        step.release,
        FORMATS[step.fmt],
        out,
        view=EVERYTHING,
        soft=step.soft,
        annotators=step.annotators,
    )
    return _rows_in(out, step.fmt), f"{_size(out) / 1e6:,.0f} MB"


def _verify(step: Step) -> tuple[int, str]:
    from labelwise.services import releases

    db, project = _open(step)
    ok, _ = releases.verify(db, project, step.release)
    if not ok:
        raise RuntimeError(f"release {step.release} does not verify")
    info = releases.get(db, project, step.release)
    return info.items, "hash ok"


def _diff(step: Step) -> tuple[int, str]:
    from labelwise.services import releases

    db, project = _open(step)
    result = releases.diff(db, project, step.release, step.method)
    info = releases.get(db, project, step.method)
    detail = f"changed {result.changed:,}, added {result.added}, removed {result.removed}"
    return info.items, detail


STEPS = {"create": _create, "export": _export, "verify": _verify, "diff": _diff}


def _rows_in(path: Path, fmt: str) -> int:
    """Rows written, where the format says so cheaply; -1 where it does not."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if fmt == "hf":
        import pyarrow as pa

        with pa.memory_map(str(path / "data-00000-of-00001.arrow")) as source:
            return sum(batch.num_rows for batch in pa.ipc.open_stream(source))
    if fmt in ("jsonl", "csv"):
        with path.open("rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        return lines - (fmt == "csv")  # the header
    return -1


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(part.stat().st_size for part in path.iterdir())
    return path.stat().st_size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for part in sorted(path.iterdir()) if path.is_dir() else [path]:
        with part.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def in_child(step: Step) -> Outcome:
    outcome = steps.in_child(run_step, step, step.name)
    assert isinstance(outcome, Outcome)
    return outcome


# --- A run: one backend, one size ----------------------------------------------------------------


@dataclass
class Run:
    backend: str
    n: int
    setup_seconds: float = 0.0
    changed: int = 0
    results: list[tuple[Step, Outcome]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def steps_for(url: str, slug: str, out: Path, profile: str | None, skip: list[str]) -> list[Step]:
    def step(name: str, kind: str, release: str = "v1", **options: Any) -> Step:
        wanted = profile is not None and profile in name
        return Step(name, kind, url, slug, release, profile=wanted, **options)

    def export(fmt: str, name: str = "", **options: Any) -> Step:
        target = out / f"{slug}-{name or fmt}.{fmt}".replace(" ", "-").replace("+", "-")
        return step(f"export {name or fmt}", "export", fmt=fmt, out=str(target), **options)

    exports = [
        export("jsonl"),
        export("jsonl", "jsonl again"),
        export("jsonl", "jsonl soft+annotators", soft=True, annotators=True),
        export("csv"),
        export("csv", "csv soft+annotators", soft=True, annotators=True),
        export("parquet"),
        export("parquet", "parquet soft+annotators", soft=True, annotators=True),
        export("hf"),
        export("conll"),
    ]
    if _spacy_installed():
        exports.append(export("spacy"))
    exports = [e for e in exports if not any(part in e.name for part in skip)]
    return [
        step("create majority", "create", method="majority"),
        step("create dawid-skene", "create", "v1-ds", method="dawid-skene"),
        *exports,
        step("verify", "verify"),
        step("create v2 (1% adjudicated)", "create", "v2", method="majority"),
        step("diff v1 v2", "diff", method="v2"),
    ]


def _spacy_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("spacy") is not None


def bench(
    url: str, backend: str, n: int, seed: int, out: Path, profile: str | None, skip: list[str]
) -> Run:
    slug = f"rel-bench-{os.getpid()}-{n}"
    run = Run(backend, n)
    print(f"{backend}, {n:,} items: setting up ...", flush=True)
    try:
        run.setup_seconds = set_up(url, slug, n, seed)
        print(f"  set up in {run.setup_seconds:.0f} s", flush=True)
        for step in steps_for(url, slug, out, profile, skip):
            if step.release == "v2" and step.kind == "create":
                run.changed = adjudicate_some(url, slug, "v1")
            print(f"  {step.name} ...", end="", flush=True)
            outcome = in_child(step)
            print(f" {outcome.seconds:.1f} s, {outcome.peak_rss_mb:.0f} MB", flush=True)
            run.results.append((step, outcome))
            run.problems += check(step, outcome, run)
            if step.out and step.name != "export jsonl":
                _remove(Path(step.out))
    finally:
        if backend == "PostgreSQL":
            forget(url, slug)
        for path in out.glob(f"{slug}-*"):
            _remove(path)
    return run


def check(step: Step, outcome: Outcome, run: Run) -> list[str]:
    """What was wrong with the work: a figure counts only if the work was right."""
    problems = []
    if outcome.count not in (run.n, -1):
        problems.append(f"{step.name}: {outcome.count:,} rows, expected {run.n:,}")
    if step.kind == "diff":
        expected = f"changed {run.changed:,}, added 0, removed 0"
        if outcome.detail != expected:
            problems.append(f"{step.name}: {outcome.detail}; expected {expected}")
    if step.name == "export jsonl again":
        first = next(o for s, o in run.results if s.name == "export jsonl")
        same = "identical" if first.sha256 == outcome.sha256 else "DIFFERENT"
        outcome_detail = f"sha256 {same}: {outcome.sha256[:12]}"
        run.results[-1] = (step, _with_detail(outcome, outcome_detail))
        if same != "identical":
            problems.append(f"jsonl exports differ: {first.sha256} vs {outcome.sha256}")
    return problems


def _with_detail(outcome: Outcome, detail: str) -> Outcome:
    return Outcome(
        outcome.seconds,
        outcome.cpu_seconds,
        outcome.base_rss_mb,
        outcome.peak_rss_mb,
        outcome.count,
        detail,
        outcome.sha256,
    )


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# --- Report --------------------------------------------------------------------------------------


def report(runs: list[Run]) -> None:
    """The table of every run so far, then how peak RSS grew with N, then any problems."""
    print()
    print(
        f"{'backend':<11} {'step':<30} {'items':>9} {'seconds':>8} {'items/s':>9} "
        f"{'cpu s':>7} {'base RSS':>9} {'peak RSS':>9}  detail"
    )
    for run in runs:
        print(
            f"{run.backend:<11} {'(set up, not a release step)':<30} {run.n:>9,} "
            f"{run.setup_seconds:>8.1f}"
        )
        for step, o in run.results:
            print(
                f"{run.backend:<11} {step.name:<30} {run.n:>9,} {o.seconds:>8.1f} "
                f"{run.n / o.seconds:>9,.0f} {o.cpu_seconds:>7.1f} {o.base_rss_mb:>6.0f} MB "
                f"{o.peak_rss_mb:>6.0f} MB  {o.detail}"
            )
    growth(runs)
    for run in runs:
        for problem in run.problems:
            print(f"PROBLEM ({run.backend}, {run.n:,}): {problem}")


def growth(runs: list[Run]) -> None:
    """Each step's peak RSS above its base, smallest against largest N, per backend."""
    by_backend: dict[str, list[Run]] = {}
    for run in runs:
        by_backend.setdefault(run.backend, []).append(run)
    for backend, same in by_backend.items():
        if len(same) < 2:
            continue
        small, large = min(same, key=lambda r: r.n), max(same, key=lambda r: r.n)
        print(f"\n{backend}: peak RSS above base, {small.n:,} vs {large.n:,} items")
        above = {s.name: o.peak_rss_mb - o.base_rss_mb for s, o in small.results}
        for step, outcome in large.results:
            before, after = above.get(step.name, 0.0), outcome.peak_rss_mb - outcome.base_rss_mb
            flag = "  GROWS with N" if after - before > GROWTH_MB else ""
            print(f"  {step.name:<30} {before:>7.0f} MB {after:>7.0f} MB{flag}")


def machine_load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--items", type=int, nargs="+", default=[200_000], help="number of items (several: each)"
    )
    parser.add_argument("--database-url", help="PostgreSQL database (default: a SQLite temp file)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", metavar="STEP", help="profile the steps whose name has this")
    parser.add_argument(
        "--skip",
        metavar="EXPORT",
        action="append",
        default=[],
        help="leave out the exports whose name has this (e.g. spacy); repeatable",
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {machine_load()}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-releases-") as temp:
        directory = Path(temp)
        for n in args.items:
            if args.database_url:
                url, backend = args.database_url, "PostgreSQL"
            else:
                url, backend = f"sqlite:///{directory / f'releases-{n}.db'}", "SQLite"
            runs.append(bench(url, backend, n, args.seed, directory, args.profile, args.skip))
            report(runs)  # after each size too: a long run shows its figures as they come
            if backend == "SQLite":
                for suffix in ("", "-wal", "-shm"):
                    (directory / f"releases-{n}.db{suffix}").unlink(missing_ok=True)
    print(f"\n{machine_load()}")


if __name__ == "__main__":
    main()
