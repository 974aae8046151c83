"""Reading a table in keyset pages, the same way everywhere, in constant memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, bindparam
from sqlalchemy.orm import QueryableAttribute

from labelwise.db.models import Item

_items = Item.__table__
R = TypeVar("R")

# How a page is read: the page's statement and its parameters in, the page's rows out.
Reader = Callable[[Select[Any], Mapping[str, Any]], Sequence[R]]


def _first(row: Any) -> Any:
    return row[0]


def keyset_pages(
    read: Reader[R],
    query: Select[Any],
    key: ColumnElement[Any] | QueryableAttribute[Any],
    *,
    start: Any,
    size: int,
    last_key: Callable[[R], Any] = _first,
) -> Iterator[Sequence[R]]:
    """`query`'s rows with `key` above `start`, in `key` order, `size` at a time.

    Each page is `... WHERE key > :after ORDER BY key LIMIT size`, `:after` the last key of
    the page before (`last_key` reads it from a row), so each costs the same however deep.
    A short page is the last: asking for the next would scan for nothing.
    """
    page_query = query.where(key > bindparam("after")).order_by(key).limit(size)
    after = start
    while page := read(page_query, {"after": after}):
        yield page
        if len(page) < size:
            return
        after = last_key(page[-1])


def read_on(connection: Connection) -> Reader[Any]:
    """Every page read on `connection`: within one snapshot if it holds one."""
    return lambda query, params: connection.execute(query, params).all()


def items_in_project(is_sqlite: bool, project_id: int) -> ColumnElement[bool]:
    """The page filter, written so that each page costs the same however big the project.

    Without statistics SQLite answers `project_id = ?` from an index that does not hold
    the id order, so every page would read and sort all the project's items: quadratic.
    `project_id + 0` cannot use that index; SQLite then walks the primary key from the
    last id of the previous page. (PostgreSQL has statistics, refreshed after imports.)
    """
    if is_sqlite:
        return (_items.c.project_id + 0) == project_id
    return _items.c.project_id == project_id
