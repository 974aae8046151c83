"""Prepared statements give what SQLAlchemy's own execution gives, on both databases."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, func, insert, select, text

from labelwise.db.engine import Database
from labelwise.db.models import Assignment, Comment, Item, User
from labelwise.db.prepared import Prepared
from labelwise.policies import Action, HolderPermit, Permit
from labelwise.services import accounts
from labelwise.services.workflow import routing, submissions
from tests.teams import Team

_LEASES = (
    select(Assignment.id, Assignment.kind, Assignment.status, Assignment.expires_at)
    .where(
        Assignment.user_id == bindparam("user"),
        Assignment.kind.in_(("annotate", "gold")),  # a constant IN: expanded when compiled
        Assignment.status.in_(("active", "rework")),
    )
    .order_by(Assignment.id)
)
_ITEMS = select(Item.id, Item.external_id, Item.data).where(Item.id <= bindparam("up_to"))


class _Lease(NamedTuple):
    id: int
    kind: str
    status: str
    expires_at: datetime


class _Item(NamedTuple):
    id: int
    external_id: str | None
    data: dict[str, Any]


class _Comment(NamedTuple):
    id: int
    body: str


class _Body(NamedTuple):
    body: str


def test_rows_and_conversions_match_sqlalchemy(client: TestClient, db: Database) -> None:
    team = Team(client, db, 3)
    team.member("ana")
    lease = team.next("ana")
    user_id = _user_id(db, "ana")
    with db.read() as session:
        connection = session.connection()
        for statement, params in (
            (_LEASES, {"user": user_id}),
            (_ITEMS, {"up_to": 2}),
            (select(func.count()).select_from(Item), {}),
        ):
            expected = [tuple(row) for row in connection.execute(statement, params)]
            assert [tuple(r) for r in Prepared(statement).all(connection, params)] == expected
        row = Prepared(_LEASES, _Lease).one(connection, {"user": user_id})
        assert row.id == lease["assignment_id"] and isinstance(row.expires_at, datetime)
        data = Prepared(_ITEMS, _Item).first(connection, {"up_to": 1})
        assert data is not None and isinstance(data, _Item)
        assert data.external_id == "t-0" and data.data["text"] == "ticket 0"  # JSON, parsed
        plain = Prepared(_ITEMS, tuple).first(connection, {"up_to": 1})
        assert plain == tuple(data)  # plain tuples, converted alike
        assert Prepared(text("SELECT 1 + :n")).one(connection, {"n": 41}) == (42,)


def test_insert_returning_and_a_missing_row(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1)
    team.member("ana")
    item = team.item("t-0")
    user_id = _user_id(db, "ana")
    add = Prepared(insert(Comment).returning(Comment.id, Comment.body), _Comment)
    values = {"project_id": item.project_id, "item_id": item.id, "user_id": user_id}
    with db.write() as session:
        first = add.one(session.connection(), {**values, "body": "é ünïcode"})
        second = add.one(session.connection(), {**values, "body": "again"})
    assert second.id == first.id + 1 and first.body == "é ünïcode"
    with db.read() as session:
        stored = session.scalars(select(Comment.body).order_by(Comment.id)).all()
        missing = Prepared(_ITEMS, _Item).first(session.connection(), {"up_to": 0})
    assert stored == ["é ünïcode", "again"] and missing is None


def test_a_last_statement_commits_with_its_unit_of_work(client: TestClient, db: Database) -> None:
    """`commit=True` (PostgreSQL: the COMMIT in the same round trip) keeps the rows, answers
    them, and leaves the unit of work a commit with nothing to do; a failure keeps nothing."""
    team = Team(client, db, 1)
    team.member("ana")
    item = team.item("t-0")
    values = {"project_id": item.project_id, "item_id": item.id, "user_id": _user_id(db, "ana")}
    add = Prepared(insert(Comment).returning(Comment.body), _Body)
    with db.write() as session:
        add.all(session.connection(), {**values, "body": "kept"})
        rows = add.all(session.connection(), {**values, "body": "last"}, commit=True)
    assert [row.body for row in rows] == ["last"]
    refused = db.engine.dialect.loaded_dbapi.IntegrityError  # no item -1
    with pytest.raises(refused), db.write() as session:
        add.all(session.connection(), {**values, "body": "lost"})
        add.all(session.connection(), {**values, "item_id": -1, "body": "x"}, commit=True)
    with db.read() as session:
        stored = session.scalars(select(Comment.body).order_by(Comment.id)).all()
    assert stored == ["kept", "last"]


def test_a_row_type_must_name_the_statement_columns(db: Database) -> None:
    """Rows are typed: a NamedTuple whose fields are not the columns is refused, not misread."""
    with db.read() as session, pytest.raises(TypeError, match="the statement answers"):
        Prepared(_ITEMS, _Comment).all(session.connection(), {"up_to": 1})


def _user_id(db: Database, username: str) -> int:
    with db.read() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_plans_the_labeling_path_once(client: TestClient, db: Database) -> None:
    """After five plans made for a prepared statement's values PostgreSQL keeps one generic
    plan, unless that plan looks costlier; then it plans anew on every call, as it did for
    three of next and submit's statements until their constants were written into the SQL."""
    team = Team(client, db, 20)
    team.member("ana")
    with db.read() as session:
        actor = accounts.actor_of(session.scalars(select(User).where(User.username == "ana")).one())
    own = Database(db.url)  # used by one thread at a time: one pooled connection
    try:
        for _ in range(15):
            lease = routing.next_annotation(own, "t", Permit(actor, Action.ANNOTATE))
            assert lease is not None
            submissions.submit(
                own, lease.assignment_id, HolderPermit(actor), {"team": "billing"}, 900
            )
        with own.engine.connect() as connection:
            plans = connection.execute(
                text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
            ).all()
    finally:
        own.dispose()
    candidate = [p for p in plans if "FOR UPDATE SKIP LOCKED" in p.statement]
    assert candidate and candidate[0].generic_plans >= 4
    assert [p.statement for p in plans if p.custom_plans > 5] == []
