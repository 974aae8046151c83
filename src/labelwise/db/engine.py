"""Engine and unit-of-work setup for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from labelwise.db.writer_lock import writer_lock

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection idle longer than this is pinged before use.
PING_AFTER_IDLE_S = 5.0


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, ping_after_idle_s: float = PING_AFTER_IDLE_S) -> Engine:
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_size=10, max_overflow=20)
        _ping_when_idle(engine, ping_after_idle_s)
        return engine
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=20,
        max_overflow=20,
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection before use only if it sat idle, where a restarted or
    firewalled server may have dropped it. SQLAlchemy's pre-ping pays a round trip on every
    checkout: two per annotation on the labeling path (bench/RESULTS.md)."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error  # the pool connects anew


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can ask for IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # A write that starts as a reader can fail with SQLITE_BUSY on upgrade, ignoring the
    # busy timeout; taking the write lock up front makes writers queue instead.
    # Straight on the driver: this runs for every transaction.
    write = conn.get_execution_options().get("write")
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def insert_if_missing(session: Session, model: Any, **values: Any) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: make sure a row exists, whoever races to add it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


class Database:
    """The engine plus the two kinds of unit of work the services use."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = self.engine.execution_options(write=True)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)
        self.write_lock = writer_lock(self._sqlite_file()) if self.is_sqlite else None
        self._writer: tuple[int, Connection] | None = None  # (pid, connection), SQLite

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any error."""
        if self.write_lock is None:
            with self._write() as session, session.begin():
                yield session
            return
        with self.write_lock:
            session = Session(self._writer_connection(), expire_on_commit=False)
            with session, session.begin():
                yield session

    def _writer_connection(self) -> Connection:
        """SQLite's one writer at a time keeps one connection, instead of a pool checkout,
        a new Connection and a checkin per write (a fifth of the labeling path's CPU)."""
        pid, connection = self._writer or (0, None)
        if connection is None or pid != os.getpid() or connection.invalidated:
            connection = self._write_engine.connect()
            self._writer = (os.getpid(), connection)
        return connection

    def _sqlite_file(self) -> Path | None:
        name = make_url(self.url).database
        return Path(name) if name and name != ":memory:" else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read transaction that sees one consistent state from start to end (exports)."""
        with self._read() as session, session.begin():
            if not self.is_sqlite:  # SQLite's read transactions are snapshots already
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    def dispose(self) -> None:
        if self._writer is not None and self._writer[0] == os.getpid():
            self._writer[1].close()
        self._writer = None
        self.engine.dispose()
