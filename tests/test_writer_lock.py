"""SQLite's writer lock, with real threads and real processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from labelwise.db.engine import Database
from labelwise.db.writer_lock import writer_lock

ROUNDS = 40


def _count(database: str, counter: str, rounds: int) -> None:
    """Read, pause, write back plus one: without mutual exclusion increments get lost."""
    for _ in range(rounds):
        with writer_lock(Path(database)):
            value = int(Path(counter).read_text())
            time.sleep(0.001)
            Path(counter).write_text(str(value + 1))


def _try_once(database: str) -> None:
    lock = writer_lock(Path(database))
    got = lock.acquire(blocking=False)
    if got:
        lock.release()
    raise SystemExit(0 if got else 3)


def test_processes_take_turns(tmp_path: Path) -> None:
    database, counter = tmp_path / "labelwise.db", tmp_path / "counter"
    counter.write_text("0")
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=_count, args=(str(database), str(counter), ROUNDS)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert int(counter.read_text()) == 3 * ROUNDS


def test_another_process_sees_the_lock_held(tmp_path: Path) -> None:
    database = tmp_path / "labelwise.db"
    spawn = multiprocessing.get_context("spawn")
    lock = writer_lock(database)
    with lock:
        refused = spawn.Process(target=_try_once, args=(str(database),))
        refused.start()
        refused.join(60)
    taken = spawn.Process(target=_try_once, args=(str(database),))
    taken.start()
    taken.join(60)
    assert (refused.exitcode, taken.exitcode) == (3, 0)


def test_one_lock_per_file_reentrant_in_its_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'labelwise.db'}"
    first, second = Database(url), Database(url)
    assert first.write_lock is not None and first.write_lock is second.write_lock
    tried: list[bool] = []

    def try_from_another_thread() -> None:
        assert first.write_lock is not None
        got = first.write_lock.acquire(blocking=False)
        tried.append(got)
        if got:
            first.write_lock.release()

    with first.write(), first.write_lock:  # nested: still one holder
        other = threading.Thread(target=try_from_another_thread)
        other.start()
        other.join(10)
    after = threading.Thread(target=try_from_another_thread)
    after.start()
    after.join(10)
    assert tried == [False, True]
    first.dispose()
    second.dispose()
