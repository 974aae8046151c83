"""The PostgreSQL pool: a connection the server dropped while idle is replaced, not used."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from labelwise.db.engine import Database, make_engine


def _drop_pooled_connection(engine: Engine, admin: Database) -> int:
    """Check one connection in to the pool, then have the server end it; its backend pid."""
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    with admin.engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    return pid


def test_an_idle_connection_the_server_dropped_is_replaced(pg_database: Database) -> None:
    engine = make_engine(pg_database.url, ping_after_idle_s=0.0)
    try:
        dropped = _drop_pooled_connection(engine, pg_database)
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert pid != dropped
    finally:
        engine.dispose()


def test_a_connection_just_used_is_not_pinged(pg_database: Database) -> None:
    """Busy connections skip the round trip: a drop shows only at their next statement."""
    engine = make_engine(pg_database.url, ping_after_idle_s=60.0)
    try:
        _drop_pooled_connection(engine, pg_database)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:  # the pool was refilled after the error
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
