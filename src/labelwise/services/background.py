"""Work that follows labeling without slowing it: a child process pre-labels newly imported
items with the project's `workflow.model_backend`, runs each project's checks and, with
`workflow.order: uncertainty`, retrains the model that orders its queue.

Submit is left as it is (no extra statement on the request path). Instead a sweep reads the
head of every project's audit chain, one small row each: every submit, edit and verdict moves
it, so a head that moved since the project's last run means new work to check. Checks that
compare annotators (percentiles, gold accuracy) need the whole project, so a run reads it all;
the model is retrained after every `workflow.retrain_every` new annotations. Each new item
goes to the model backend once per process: the sweeper remembers the last item id it sent,
and a restarted one sends only the new items that have no prediction yet.
It runs in its own process at a lower CPU priority: in a thread of the server it held the GIL
while it validated answers and halved labeling throughput (bench/RESULTS.md). A big project
also rests ten times its last run's duration before its next. One process per data directory
sweeps (it holds a `flock` on DATA_DIR/background.lock); when it stops, another one takes over.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from labelwise.db.audit_chain import chain_of
from labelwise.db.audit_models import AuditEvent, AuditHead
from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.services import active_learning, model_backend
from labelwise.services.checks import enabled, run
from labelwise.services.projects import spec_of
from labelwise.settings import ModelLimits

log = logging.getLogger(__name__)
COOL_DOWN = 10  # a project rests this many times its last run's duration between runs
LOCK_FILE = "background.lock"
NICENESS = 10  # labeling requests go first when both want the CPU
STOP_GRACE_SECONDS = 30


@dataclass
class _Seen:
    seq: int
    next_at: float


@dataclass
class Sweeper:
    """What the sweeps remember: each project's chain head at its last run, when it may run
    again, its annotations when its model was last trained, and the last item it sent to the
    model backend. `clock` is injectable so a test can step past the cool-down."""

    db: Database
    limits: ModelLimits = field(default_factory=ModelLimits)
    clock: Callable[[], float] = time.monotonic
    seen: dict[int, _Seen] = field(default_factory=dict)
    trained: dict[int, int] = field(default_factory=dict)
    prelabeled: dict[int, int] = field(default_factory=dict)

    def sweep(self) -> list[str]:
        """Pre-labels, checks and retrains every project with new work; returns their slugs.
        A project whose work fails is logged and tried again after its cool-down; the others
        go on."""
        with self.db.read() as session:
            projects = list(session.scalars(select(Project).order_by(Project.id)))
            heads = {
                chain: seq for chain, seq in session.execute(select(AuditHead.chain, AuditHead.seq))
            }
        ran = []
        for project in projects:
            seq = heads.get(chain_of(project.id), 0)
            last = self.seen.get(project.id) or self._first_sight(project.id, seq)
            if last is not None and (last.seq == seq or self.clock() < last.next_at):
                continue
            spec = spec_of(project)
            backend = spec.workflow.model_backend
            checks, learning = enabled(spec), active_learning.wanted(spec)
            if not (backend or checks or learning):
                self.seen[project.id] = _Seen(seq, 0.0)
                continue
            started = self.clock()
            try:
                if backend:
                    self._prelabel(project, backend.url, backend.batch_size)
                if checks:
                    run(self.db, project)
                if learning:
                    self._retrain(project, spec.workflow.retrain_every)
            except Exception:
                log.exception("background work on project %s failed", project.slug)
            took = self.clock() - started
            with self.db.read() as session:
                after = session.scalar(
                    select(AuditHead.seq).where(AuditHead.chain == chain_of(project.id))
                )
            self.seen[project.id] = _Seen(after or 0, started + took * (1 + COOL_DOWN))
            ran.append(project.slug)
        return ran

    def _prelabel(self, project: Project, url: str, batch_size: int) -> None:
        done = model_backend.prelabel(
            self.db,
            project,
            url,
            batch_size=batch_size,
            limits=self.limits,
            unpredicted_after=self.prelabeled.get(project.id, 0),
        )
        if done.last_item_id is not None:
            self.prelabeled[project.id] = done.last_item_id
        for failed in [*done.failed_batches, *(s["error"] for s in done.imported.skipped)]:
            log.warning("model backend of project %s: %s", project.slug, failed)

    def _retrain(self, project: Project, every: int) -> None:
        count = active_learning.annotation_count(self.db, project.id)
        last = self.trained.get(project.id)
        if last is not None and count - last < every:
            return
        if active_learning.reorder(self.db, project) is not None:
            self.trained[project.id] = count

    def _first_sight(self, project_id: int, seq: int) -> _Seen | None:
        """A chain whose last event is the sweep's own (a check run, the model's priorities)
        has had nothing new since: a restarted sweeper does not run every project again."""
        with self.db.read() as session:
            action = session.scalar(
                select(AuditEvent.action).where(
                    AuditEvent.chain == chain_of(project_id), AuditEvent.seq == seq
                )
            )
        return _Seen(seq, 0.0) if action in ("checks.run", "items.prioritized") else None


class BackgroundProcess:
    """The sweeping process, started and stopped with the app."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        interval: float,
        limits: ModelLimits = ModelLimits(),
    ) -> None:
        spawn = multiprocessing.get_context("spawn")  # no copy of the server's threads and pools
        self._stop = spawn.Event()
        self._process = spawn.Process(
            target=_sweep_until_stopped,
            args=(
                database_url,
                data_dir / LOCK_FILE,
                interval,
                limits,
                self._stop,
                os.getpid(),
            ),
            name="labelwise-background",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._stop.set()
        self._process.join(STOP_GRACE_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _sweep_until_stopped(
    database_url: str,
    lock_path: Path,
    interval: float,
    limits: ModelLimits,
    stop: Any,
    parent: int,
) -> None:
    """The child's life: sweep every `interval` seconds while it holds the data dir's lock.

    Errors are logged, never raised: a sweep that fails (the database gone) is tried again.
    Ctrl-C reaches the whole process group; the server, not the signal, stops the child.
    It also ends when its server is gone (killed without a chance to stop it).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    db = Database(database_url)
    sweeper = Sweeper(db, limits)
    lock_fd: int | None = None
    try:
        while not stop.wait(interval) and os.getppid() == parent:
            lock_fd = lock_fd if lock_fd is not None else _try_lock(lock_path)
            if lock_fd is None:
                continue
            try:
                sweeper.sweep()
            except Exception:
                log.exception("background work: a sweep failed; the next one tries again")
    finally:
        if lock_fd is not None:
            os.close(lock_fd)  # closing releases the flock
        db.dispose()


def _try_lock(path: Path) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
