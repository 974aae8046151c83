"""Benchmark: migration 0015 re-sealing audit chains written under the old form.

    python bench/reseal.py [--n 1000000] [--chains 4] [--database-url URL]

N events (item-like `after` content, spread over CHAINS project chains) are written at
revision 0010 with the old form's hashes, straight into the table; then the upgrade to head
is timed: it verifies each chain under the old form and rehashes it under the digest form, a
keyset page at a time. Printed: events per second and the process's peak RSS before and after
the upgrade (flat memory: the peak should not grow with N). Without --database-url the database
is a SQLite file in a temporary directory; with it, an empty database that is left migrated.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import text

from labelwise.db.engine import Database
from labelwise.db.migrate import MIGRATIONS, upgrade
from labelwise.services import audit

BATCH = 10_000


def _migration():  # type: ignore[no-untyped-def]
    path = MIGRATIONS / "versions" / "0015_audit_content_digests.py"
    spec = importlib.util.spec_from_file_location("reseal_0015", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_old_chains(db: Database, n: int, chains: int) -> None:
    form = _migration()
    heads: dict[str, tuple[int, str, str]] = {}
    insert = text(
        "INSERT INTO audit_events (chain, seq, project_id, actor_id, action, target_type, "
        'target_id, before, "after", created_at, prev_hash, hash) VALUES (:chain, :seq, '
        ":project_id, :actor_id, :action, :target_type, :target_id, :before, :after, "
        ":created_at, :prev_hash, :hash)"
    )
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    rows = []
    with db.engine.begin() as connection:
        for i in range(n):
            project = i % chains + 1
            chain = f"project:{project}"
            seq, prev, _ = heads.get(chain, (0, form.GENESIS, ""))
            after = {"item": i, "answers": {"team": "billing", "note": f"text {i}"}, "time_ms": 900}
            fields = {
                "chain": chain,
                "seq": seq + 1,
                "project_id": project,
                "actor_id": 1,
                "action": "annotation.created",
                "target_type": "annotation",
                "target_id": str(i),
                "before": None,
                "after": after,
                "created_at": moment,
            }
            link = form._link(prev, fields, form.values_form)
            heads[chain] = (seq + 1, link, prev)
            rows.append(
                {**fields, "after": orjson.dumps(after).decode(), "prev_hash": prev, "hash": link}
            )
            if len(rows) == BATCH:
                connection.execute(insert, rows)
                rows = []
        if rows:
            connection.execute(insert, rows)
        for chain, (seq, link, prev) in heads.items():
            connection.execute(
                text(
                    "INSERT INTO audit_heads (chain, seq, hash, prev_hash) VALUES (:c, :s, :h, :p)"
                ),
                {"c": chain, "s": seq, "h": link, "p": prev},
            )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, n: int, chains: int) -> None:
    db = Database(url)
    upgrade(db.engine, "0010")
    _write_old_chains(db, n, chains)
    before = _peak_mb()
    started = time.perf_counter()
    upgrade(db.engine)
    spent = time.perf_counter() - started
    print(f"re-sealed {n:,} events in {chains} chains: {spent:.1f} s, {n / spent:,.0f} events/s")
    print(f"peak RSS {before:.0f} MB before the upgrade, {_peak_mb():.0f} MB after")
    report = audit.verify(db)
    print(f"audit verify: ok={report.ok}, {report.events:,} events")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.n, args.chains)
        return
    with tempfile.TemporaryDirectory() as directory:
        run(f"sqlite:///{Path(directory) / 'reseal.db'}", args.n, args.chains)


if __name__ == "__main__":
    main()
