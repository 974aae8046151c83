"""Benchmark: item import with PII detection off and on, on SQLite and on PostgreSQL.

    python bench/pii.py [--n 1000000] [--pg-url URL | --no-pg] [--seed 7] [--repeat 1]

The items are `import_export.py`'s support tickets (about 200 characters: order and ticket
numbers in every one), where one in ten has a sentence with PII in place of a detail: an
e-mail address, an international phone number, an IBAN, a card number or an IP address,
each a different, valid value. First the detector alone (`Detector.find`, all five kinds)
runs over the texts, without and with the PII. Then the same JSONL file goes into an empty
project once per mode: no rule, `mask`, `pseudonymise`, `flag` (the rule looks at `text`
for all five kinds), each import in its own fresh process, timed as in `import_export.py`
(the service the CLI calls, from opening the database to the commit). A run counts only if
every injected value was found and nothing else: the import's PII report must equal what
was put in.

`import_export.py --pii` runs the same after its own steps.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import import_export
import orjson
import steps

MODES = [None, "mask", "pseudonymise", "flag"]
PII_SHARE = 0.1
KINDS = ["email", "phone", "iban", "credit_card", "ip"]
NAMES = ["anna", "ben", "chloe", "dmitri", "elif", "farah", "goran", "hana", "ivo", "jun"]
DOMAINS = ["example.org", "mail.example.com", "example.co.uk", "post.example.de"]
SENTENCES = {
    "email": "You can reach me at {}.",
    "phone": "Call me back on {} please.",
    "iban": "Refund it to IBAN {} instead.",
    "credit_card": "The card was {}, now blocked.",
    "ip": "The error comes from {} today.",
}


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18))
    check = 98 - int(bban + "131400") % 97  # "DE00" moved to the end, D=13, E=14
    compact = f"DE{check:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _card(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    total = 0
    for position, char in enumerate(reversed(body)):  # the check digit will be position 0
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    digits = body + str(-total % 10)
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def pii_value(kind: str, rng: random.Random) -> str:
    if kind == "email":
        return f"{rng.choice(NAMES)}.{rng.randrange(10_000)}@{rng.choice(DOMAINS)}"
    if kind == "phone":
        return f"+44 20 {rng.randrange(1000, 10_000)} {rng.randrange(1000, 10_000)}"
    if kind == "iban":
        return _iban(rng)
    if kind == "credit_card":
        return _card(rng)
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def items_with_pii(n: int, seed: int, injected: Counter[str]) -> Iterator[dict[str, Any]]:
    """The tickets of `import_export`, one in ten with a PII sentence for a detail;
    `injected` counts the values put in, by kind."""
    rng = random.Random(seed + 1)
    for item in import_export.synthetic_items(n, seed):
        if rng.random() < PII_SHARE:
            kind = KINDS[sum(injected.values()) % len(KINDS)]
            sentence = SENTENCES[kind].format(pii_value(kind, rng))
            detail = next(d for d in import_export.DETAILS if d in item["text"])
            item["text"] = item["text"].replace(detail, sentence, 1)
            injected[kind] += 1
        yield item


def write_items(path: Path, n: int, seed: int) -> Counter[str]:
    injected: Counter[str] = Counter()
    with path.open("wb") as out:
        batch: list[bytes] = []
        for item in items_with_pii(n, seed, injected):
            batch.append(orjson.dumps(item) + b"\n")
            if len(batch) == import_export.WRITE_BATCH:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return injected


# --- The detector alone ---------------------------------------------------------------------


def detector_rates(path: Path, limit: int = 200_000) -> tuple[float, float, float]:
    """Texts per second of `Detector.find` over texts without PII, with it, and all of them."""
    from labelwise.privacy import Detector

    texts = []
    with path.open("rb") as handle:
        for line, _ in zip(handle, range(limit), strict=False):
            texts.append(orjson.loads(line)["text"])
    detector = Detector(KINDS)
    with_pii = [t for t in texts if detector.find(t)]
    without = [t for t in texts if not detector.find(t)]

    def rate(group: list[str]) -> float:
        find = detector.find
        start = time.perf_counter()
        for text in group:
            find(text)
        return len(group) / (time.perf_counter() - start)

    return rate(without), rate(with_pii), rate(texts)


# --- One import, in a fresh process ---------------------------------------------------------


@dataclass(frozen=True)
class Step:
    backend: str
    url: str
    slug: str
    path: str
    mode: str | None


@dataclass(frozen=True)
class Outcome:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    created: int
    pii: dict[str, dict[str, int]]


KEY = bytes(range(32))  # the bench's data-dir key; a server reads DATA_DIR/pii_key


def run_step(step: Step, results: Any) -> None:
    try:
        from labelwise.db.engine import Database
        from labelwise.formats import FORMATS
        from labelwise.services import imports

        reader = FORMATS["jsonl"].read
        assert reader is not None
        started_cpu = time.process_time()
        start = time.perf_counter()
        db = Database(step.url)
        project, spec = import_export._project(db, step.slug)
        with open(step.path, "rb") as handle:
            summary = imports.import_items(
                db, project.id, spec, reader(handle), source="items.jsonl", pii_key=lambda: KEY
            )
        seconds = time.perf_counter() - start
        db.dispose()
        cpu = time.process_time() - started_cpu
        results.put(Outcome(seconds, cpu, steps.peak_rss_mb(), summary.created, summary.pii))
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")


def spec_for(slug: str, mode: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {**import_export.SPEC, "name": slug, "slug": slug}
    if mode is not None:
        spec["privacy"] = {"pii": {"fields": ["text"], "detect": KINDS, "mode": mode}}
    return spec


def prepare(url: str, slugs: dict[str, str | None]) -> None:
    from labelwise.db.engine import Database
    from labelwise.db.migrate import upgrade
    from labelwise.services import projects
    from labelwise.spec import parse_spec

    db = Database(url)
    upgrade(db.engine)
    for slug, mode in slugs.items():
        projects.apply_spec(db, parse_spec(spec_for(slug, mode)))
    db.dispose()


@dataclass(frozen=True)
class Row:
    step: Step
    outcome: Outcome
    n: int


def bench_backend(
    backend: str, url: str, path: Path, n: int, injected: Counter[str], *, forget: bool = False
) -> list[Row]:
    """One import per mode into an empty project; with `forget`, the projects are deleted."""
    slugs = {f"pii-{os.getpid()}-{mode or 'off'}": mode for mode in MODES}
    prepare(url, slugs)
    rows = []
    try:
        for slug, mode in slugs.items():
            step = Step(backend, url, slug, str(path), mode)
            print(f"  {backend}: import, PII {mode or 'off'} ...", flush=True)
            outcome = steps.in_child(run_step, step, f"{backend} {mode}")
            check(step, outcome, n, injected)
            rows.append(Row(step, outcome, n))
    finally:
        if forget:
            import_export.forget(url, list(slugs))
    return rows


def check(step: Step, outcome: Outcome, n: int, injected: Counter[str]) -> None:
    """The figures count only if every item went in and the report is exactly what was put
    in: every value found, nothing else taken for PII."""
    expected = {} if step.mode is None else {"text": dict(sorted(injected.items()))}
    found = {name: dict(sorted(counts.items())) for name, counts in outcome.pii.items()}
    if outcome.created != n or found != expected:
        raise RuntimeError(
            f"{step.backend} {step.mode}: {outcome.created} new (expected {n}), "
            f"PII {found} (expected {expected})"
        )


def report(rows: list[Row], detector: tuple[float, float, float]) -> None:
    without, with_pii, mixed = detector
    print(
        f"\ndetector alone (all five kinds): {without:,.0f} texts/s without PII, "
        f"{with_pii:,.0f} texts/s with, {mixed:,.0f} texts/s over the mix"
    )
    best: dict[tuple[str, str | None], Row] = {}
    for row in rows:
        key = (row.step.backend, row.step.mode)
        if key not in best or row.outcome.seconds < best[key].outcome.seconds:
            best[key] = row
    target = import_export.TARGETS["import"]
    print(
        f"\n{'backend':<11} {'PII mode':<13} {'items':>9} {'seconds':>8} {'items/s':>9} "
        f"{'target':>9}      {'cpu s':>6} {'items/cpu s':>11} {'peak RSS':>9}"
    )
    for (backend, mode), row in best.items():
        rate = row.n / row.outcome.seconds
        goal = target if backend == "SQLite" and mode else None
        mark = "" if goal is None else (" ok" if rate >= goal else " MISS")
        cpu = row.outcome.cpu_seconds
        print(
            f"{backend:<11} {mode or 'off':<13} {row.n:>9,} {row.outcome.seconds:>8.2f} "
            f"{rate:>9,.0f} {(f'≥{goal:,}' if goal else '-'):>9}{mark:<5} "
            f"{cpu:>6.1f} {row.n / cpu:>11,.0f} {row.outcome.peak_rss_mb:>6.0f} MB"
        )
    print(f"\nload average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def run(
    n: int, seed: int, directory: Path, *, repeat: int = 1, pg_url: str | None, no_pg: bool
) -> None:
    """Write the items, measure the detector, import them on each backend, print it all."""
    path = directory / "pii-items.jsonl"
    injected = write_items(path, n, seed)
    print(f"{n:,} items, {sum(injected.values()):,} with PII: {dict(injected)}", flush=True)
    detector = detector_rates(path)
    rows: list[Row] = []
    for attempt in range(repeat):
        database = directory / f"pii-{attempt}.db"
        rows += bench_backend("SQLite", f"sqlite:///{database}", path, n, injected)
        for suffix in ("", "-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        if pg_url and not no_pg:
            rows += bench_backend("PostgreSQL", pg_url, path, n, injected, forget=True)
        elif not no_pg:
            server = os.environ.get("LABELWISE_TEST_DATABASE_URL", import_export.DEFAULT_PG_SERVER)
            with import_export.scratch_pg_database(server) as url:
                rows += bench_backend("PostgreSQL", url, path, n, injected)
    report(rows, detector)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of items")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-url", help="PostgreSQL database to use (default: a scratch one)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best is shown")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-pii-") as temp:
        run(args.n, args.seed, Path(temp), repeat=args.repeat, pg_url=args.pg_url, no_pg=args.no_pg)


if __name__ == "__main__":
    main()
