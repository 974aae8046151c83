"""Fixtures on real parts: databases built by the migrations, the real ASGI app over HTTP.

Every test that takes `db` runs twice: on a SQLite file and on the PostgreSQL server named
by LABELWISE_TEST_DATABASE_URL. Without that variable the PostgreSQL runs skip, unless
LABELWISE_REQUIRE_ALL=1 (set by .ci/run), which turns every such skip into a failure.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text

from labelwise.app import create_app
from labelwise.db.engine import Database
from labelwise.db.migrate import upgrade
from labelwise.db.models import Base, User
from labelwise.services import accounts
from labelwise.settings import Settings

# The background process (checks, retraining) runs only where a test starts it: elsewhere its
# sweeps would add findings and events behind a test's back. Servers the tests start inherit it.
os.environ["LABELWISE_AUTO_CHECKS_SECONDS"] = "0"
PG_URL = os.environ.get("LABELWISE_TEST_DATABASE_URL")
REQUIRE_ALL = os.environ.get("LABELWISE_REQUIRE_ALL") == "1"
TEST_PASSWORD = "test-password"


def need(condition: bool, reason: str) -> None:
    """Skip when a real dependency is missing; fail instead where CI requires everything."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (LABELWISE_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "labelwise.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Database]:
    need(PG_URL is not None, "LABELWISE_TEST_DATABASE_URL is not set: no PostgreSQL run")
    assert PG_URL is not None
    db = Database(PG_URL)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "labelwise.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    database = request.getfixturevalue("pg_database")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        login_max_failures=3,
    )


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), base_url="http://testserver") as test_client:
        yield test_client


@functools.cache
def _password_hash() -> str:
    return PasswordHasher().hash(TEST_PASSWORD)


def make_token(db: Database, username: str, *, admin: bool = False) -> str:
    """A user (password TEST_PASSWORD) and an API token for them.

    The Argon2 hash is computed once per run: hashing is slow on purpose, and
    the account tests exercise it through `accounts.create_user` anyway.
    """
    with db.write() as session:
        session.add(User(username=username, password_hash=_password_hash(), is_admin=admin))
    return accounts.create_token(db, username, "tests")[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
