"""Benchmark: importing N items through the Python SDK, from each kind of table it takes.

    python bench/sdk_import.py [--n 200000] [--batch-size 1000]

Serves a fresh SQLite data directory with `labelwise serve` on a free port. Then, for each
source (a generator of dicts, a pandas DataFrame, a polars DataFrame, a Hugging Face
`datasets.Dataset`), a fresh process builds the N rows and imports them into a project of its
own with `Client.import_items`. A first process posts the same rows, made into NDJSON
beforehand, with httpx alone: what the server takes without the SDK's conversion. The
generator makes its rows as they are sent, so its time includes making them.

Each reports the items per second of the import (client and server together: the upload and
the server's transaction) and its own memory: RSS with the table built, and the peak during the
import (VmHWM after resetting it through /proc/self/clear_refs), so "growth" is what the
conversion and the upload add on top of the table. A growth that stays the same as N rises is
what "one batch in memory" means.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import steps

# "bytes" is the baseline: the same rows as NDJSON made beforehand, posted with httpx alone.
SOURCES = ("bytes", "generator", "pandas", "polars", "datasets")
WORDS = ["refund", "invoice", "login", "password", "crash", "app", "order", "shipping"]


def _text(rng: random.Random, i: int) -> str:
    return f"ticket {i}: " + " ".join(rng.choice(WORDS) for _ in range(28))


def _rows(n: int) -> Any:
    rng = random.Random(7)
    channels = ["email", "chat", "phone"]
    return ({"id": f"t-{i}", "text": _text(rng, i), "channel": channels[i % 3]} for i in range(n))


def _source(kind: str, n: int) -> Any:
    if kind == "generator":
        return _rows(n)
    rows = list(_rows(n))
    if kind == "bytes":
        import orjson

        return b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows)
    if kind == "pandas":
        import pandas

        return pandas.DataFrame(rows)
    if kind == "polars":
        import polars

        return polars.DataFrame(rows)
    import datasets

    return datasets.Dataset.from_list(rows)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _run(step: tuple[str, str, str, int, int], results: Any) -> None:
    try:
        from labelwise import Client

        url, token, kind, n, batch_size = step
        source = _source(kind, n)
        built = _rss_mb()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
        with Client(url, token) as client:
            client.apply(_spec(kind))
            start = time.perf_counter()
            if kind == "bytes":
                created = _post(url, token, kind, source)
            else:
                created = client.import_items(kind, source, batch_size=batch_size).created
            seconds = time.perf_counter() - start
        assert created == n, created
        results.put((n / seconds, built, steps.peak_rss_mb()))
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")


def _post(url: str, token: str, slug: str, body: bytes) -> int:
    answer = httpx.post(
        f"{url}/api/v1/projects/{slug}/items",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/x-ndjson"},
        timeout=600,
    )
    answer.raise_for_status()
    return int(answer.json()["created"])


def _spec(slug: str) -> dict[str, Any]:
    return {
        "name": slug,
        "slug": slug,
        "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
        "questions": [{"name": "team", "type": "single_label", "labels": ["a", "b"]}],
    }


def _serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    from labelwise.db.engine import Database
    from labelwise.db.migrate import upgrade
    from labelwise.services import accounts

    db = Database(f"sqlite:///{data_dir / 'labelwise.db'}")
    upgrade(db.engine)
    accounts.create_user(db, "bench", "bench password", is_admin=True)
    token = accounts.create_token(db, "bench", "bench")[1]
    db.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "labelwise.cli.main", "serve", "--port", str(port)]
    env = {**os.environ, "LABELWISE_DATA_DIR": str(data_dir)}
    env.pop("LABELWISE_DATABASE_URL", None)
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{url}/login", timeout=1)
            return server, url, token
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="labelwise-bench-sdk-"))
    server, url, token = _serve(data_dir)
    try:
        print(f"{args.n:,} items, batch_size {args.batch_size:,}, SQLite")
        print(f"{'source':<10} {'items/s':>9} {'RSS built':>10} {'peak':>8} {'growth':>8}")
        for kind in SOURCES:
            rate, built, peak = steps.in_child(
                _run, (url, token, kind, args.n, args.batch_size), kind
            )
            print(
                f"{kind:<10} {rate:>9,.0f} {built:>7.0f} MB {peak:>5.0f} MB {peak - built:>5.0f} MB"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
