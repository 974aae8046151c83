"""The keyset iterator: every row once, in key order, a page per query, stopping on a short page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from labelwise.db.engine import Database
from labelwise.db.models import User
from labelwise.db.pages import keyset_pages, read_on

_users = User.__table__


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def log(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", log)
    yield seen
    event.remove(db.engine, "before_cursor_execute", log)


def _add_users(db: Database, n: int) -> None:
    if n == 0:
        return
    with db.write() as session:
        session.execute(
            insert(_users), [{"username": f"u{i}", "password_hash": "x"} for i in range(n)]
        )


@pytest.mark.parametrize(("users", "sizes"), [(5, [2, 2, 1]), (4, [2, 2]), (0, [])])
def test_pages_in_key_order_until_a_short_one(
    db: Database, statements: list[str], users: int, sizes: list[int]
) -> None:
    _add_users(db, users)
    query = select(_users.c.id, _users.c.username)
    with db.snapshot() as session:
        statements.clear()
        pages = list(
            keyset_pages(read_on(session.connection()), query, _users.c.id, start=0, size=2)
        )
    assert [len(page) for page in pages] == sizes
    assert [name for page in pages for _, name in page] == [f"u{i}" for i in range(users)]
    # A short page ends it; a full last page costs one more, empty, query.
    reads = [s for s in statements if "FROM users" in s]
    assert len(reads) == len(sizes) + (not sizes or sizes[-1] == 2)
    assert all("users.id >" in s and "ORDER BY users.id" in s and "LIMIT" in s for s in reads)


def test_the_last_key_is_read_as_told() -> None:
    """Any reader and key: here names, after the last name of the page before."""
    names = ["a", "b", "c", "d", "e"]

    def read(query: Any, params: Mapping[str, Any]) -> Sequence[str]:
        return [n for n in names if n > params["after"]][:2]

    pages = keyset_pages(
        read,
        select(_users.c.username),
        _users.c.username,
        start="",
        size=2,
        last_key=lambda name: name,
    )
    assert list(pages) == [["a", "b"], ["c", "d"], ["e"]]
