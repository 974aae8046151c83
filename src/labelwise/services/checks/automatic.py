"""The checks stage on its own: a background thread runs a project's checks as work arrives.

Submit is left as it is (no extra statement on the request path). Instead a sweep reads the
head of every project's audit chain, one small row each: every submit, edit and verdict moves
it, so a head that moved since the project's last run means new work to check. Checks that
compare annotators (percentiles, gold accuracy) need the whole project, so a run reads it all;
to keep that from crowding out labeling on a big project, a project waits at least ten times
its last run's duration before its next. One process per data directory sweeps (it holds a
`flock` on DATA_DIR/checks.lock); when it stops, another server process takes over.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from labelwise.db.audit_chain import chain_of
from labelwise.db.audit_models import AuditHead
from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.services.checks import enabled, run
from labelwise.services.projects import spec_of

log = logging.getLogger(__name__)
COOL_DOWN = 10  # a project rests this many times its last run's duration between runs
LOCK_FILE = "checks.lock"


@dataclass
class _Seen:
    seq: int
    next_at: float


@dataclass
class Sweeper:
    """What the sweeps remember: each project's chain head at its last run, and when it may
    run again. `clock` is injectable so a test can step past the cool-down."""

    db: Database
    clock: Callable[[], float] = time.monotonic
    seen: dict[int, _Seen] = field(default_factory=dict)

    def sweep(self) -> list[str]:
        """Runs the checks of every project with new work; returns their slugs."""
        with self.db.read() as session:
            projects = list(session.scalars(select(Project).order_by(Project.id)))
            heads = {
                chain: seq for chain, seq in session.execute(select(AuditHead.chain, AuditHead.seq))
            }
        ran = []
        for project in projects:
            seq = heads.get(chain_of(project.id), 0)
            last = self.seen.get(project.id)
            if last is not None and (last.seq == seq or self.clock() < last.next_at):
                continue
            if not enabled(spec_of(project)):
                self.seen[project.id] = _Seen(seq, 0.0)
                continue
            started = self.clock()
            run(self.db, project)
            took = self.clock() - started
            with self.db.read() as session:
                after = session.scalar(
                    select(AuditHead.seq).where(AuditHead.chain == chain_of(project.id))
                )
            self.seen[project.id] = _Seen(after or 0, started + took * (1 + COOL_DOWN))
            ran.append(project.slug)
        return ran


class AutoChecks:
    """The thread, started and stopped with the app. Errors are logged, never raised: a
    project whose checks fail must not stop the others'."""

    def __init__(self, db: Database, data_dir: Path, interval: float) -> None:
        self._sweeper = Sweeper(db)
        self._lock_path = data_dir / LOCK_FILE
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="labelwise-checks", daemon=True)
        self._lock_fd: int | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            if not self._holds_lock():
                continue
            try:
                self._sweeper.sweep()
            except Exception:
                log.exception("automatic checks: a sweep failed; the next one tries again")

    def _holds_lock(self) -> bool:
        if self._lock_fd is None:
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._lock_fd = fd
        return True
