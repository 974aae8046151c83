"""Migration 0015: chains written under the old form (hashes over the event's content) are
re-sealed under the digest form, link by link; a chain broken before stays broken."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from alembic import command
from sqlalchemy import text

from labelwise.db.audit_chain import GENESIS
from labelwise.db.engine import Database
from labelwise.db.migrate import alembic_config, upgrade
from labelwise.policies import Role
from labelwise.services import accounts, audit, projects
from labelwise.spec import parse_spec
from tests.conftest import PG_URL, need

SPEC: dict[str, Any] = {
    "name": "Old chains",
    "slug": "old",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "q", "type": "single_label", "labels": ["a", "b"]}],
}
SCHEMA = "migration_0015"


@pytest.fixture
def fresh(backend: str, tmp_path: Any) -> Iterator[Database]:
    """An empty database of its own, migrated to head: a file, or a PostgreSQL schema."""
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    else:
        need(PG_URL is not None, "LABELWISE_TEST_DATABASE_URL is not set: no PostgreSQL run")
        admin = Database(str(PG_URL))
        with admin.engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
        db = Database(f"{PG_URL}?options=-csearch_path%3D{SCHEMA}")
    upgrade(db.engine)
    yield db
    db.dispose()


def _downgrade(db: Database, revision: str) -> None:
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _events(db: Database) -> list[Any]:
    with db.engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT id, chain, seq, project_id, actor_id, action, target_type, target_id, "
                'before, "after", created_at, prev_hash, hash FROM audit_events '
                "ORDER BY chain, seq"
            )
        ).all()


def _old_hash(row: Any) -> str:
    """The form of 0002-0010, written out here: the hash covers the content itself."""
    moment = row.created_at
    if isinstance(moment, str):  # SQLite through a plain text() query
        moment = datetime.fromisoformat(moment)
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    fields = {
        "chain": row.chain,
        "seq": row.seq,
        "project_id": row.project_id,
        "actor_id": row.actor_id,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "before": None if row.before is None else orjson.loads(row.before),
        "after": None if row.after is None else orjson.loads(row.after),
        "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    payload = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(row.prev_hash.encode() + payload).hexdigest()


def _history(db: Database) -> None:
    accounts.create_user(db, "ana", "long enough password")
    project = projects.apply_spec(db, parse_spec(SPEC)).project
    projects.apply_spec(db, parse_spec({**SPEC, "goal": "Another goal."}))
    projects.set_member(db, project, "ana", Role.VIEWER)
    projects.set_member(db, project, "ana", Role.ANNOTATOR)


def test_old_chains_are_resealed_under_the_digest_form(fresh: Database) -> None:
    _history(fresh)
    sealed = {row.id: (row.prev_hash, row.hash) for row in _events(fresh)}
    _downgrade(fresh, "0010")
    old = _events(fresh)
    assert all(_old_hash(row) == row.hash for row in old)  # the old form, link by link
    assert {row.id: (row.prev_hash, row.hash) for row in old} != sealed
    assert old[0].prev_hash == GENESIS
    upgrade(fresh.engine)
    assert {row.id: (row.prev_hash, row.hash) for row in _events(fresh)} == sealed
    report = audit.verify(fresh)
    assert report.ok and (report.chains, report.events) == (2, 5)
    with fresh.engine.connect() as connection:
        heads = dict(connection.execute(text("SELECT chain, hash FROM audit_heads")).all())
    assert heads == {row.chain: row.hash for row in _events(fresh)}  # the last of each chain


def test_a_chain_broken_before_the_migration_stays_broken(fresh: Database) -> None:
    _history(fresh)
    _downgrade(fresh, "0010")
    with fresh.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_events SET \"after\" = :v WHERE chain = 'project:1' AND seq = 3"),
            {"v": '{"user": "ana", "role": "owner"}'},
        )
    before = {row.seq: row.hash for row in _events(fresh) if row.chain == "project:1"}
    upgrade(fresh.engine)
    after = {row.seq: row.hash for row in _events(fresh) if row.chain == "project:1"}
    assert [after[seq] == before[seq] for seq in sorted(after)] == [False, False, True, True]
    (broken,) = audit.verify(fresh).breaks  # the server chain was re-sealed: it verifies
    assert (broken.chain, broken.seq) == ("project:1", 3)  # the edited event, as before
    assert "hash mismatch" in broken.reason
