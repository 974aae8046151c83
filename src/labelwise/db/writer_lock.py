"""SQLite's one writer at a time, queued fairly across threads and server processes.

SQLite lets a writer that finds the database locked retry in its busy handler, which sleeps
up to 100 ms between tries: under load that turns into tail latencies of seconds, and the
writer that comes next is whoever happens to wake. Writers here queue on a thread lock in
their process and on `flock` of a file beside the database across processes: the kernel
wakes the next one as soon as the last lets go.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType

_locks: dict[Path | None, WriterLock] = {}
_locks_guard = threading.Lock()


def writer_lock(database: Path | None) -> WriterLock:
    """The process's one lock for this SQLite file (None: an in-memory database)."""
    key = database.resolve() if database is not None else None
    with _locks_guard:
        return _locks.setdefault(key, WriterLock(key))


class WriterLock:
    """Re-entrant in its thread; holds the file lock while any depth of it is held."""

    def __init__(self, database: Path | None) -> None:
        self._path = database.with_name(database.name + "-writer.lock") if database else None
        self._fd: int | None = None
        self._pid = 0  # a forked child shares its parent's file lock: it opens its own
        self._thread = threading.RLock()
        self._depth = 0

    def acquire(self, blocking: bool = True) -> bool:
        if not self._thread.acquire(blocking):
            return False
        if self._depth == 0 and self._path is not None:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BaseException as error:
                self._thread.release()
                if isinstance(error, BlockingIOError):
                    return False
                raise
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd
