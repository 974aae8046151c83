"""Reading a table in keyset pages, the same way everywhere, in constant memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Boolean, ColumnElement, Connection, Select, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

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


class items_in_project(FunctionElement[bool]):
    """The page filter `items.project_id = :project`, written so that each page costs the
    same however big the project.

    Without statistics SQLite answers `project_id = ?` from an index that does not hold
    the id order, so every page would read and sort all the project's items: quadratic.
    There it is written `project_id + 0`, which cannot use that index; SQLite then walks the
    primary key from the last id of the previous page. (PostgreSQL has statistics,
    refreshed after imports.) Decided when the statement is compiled for its database.
    """

    type = Boolean()
    inherit_cache = True


@compiles(items_in_project)
def _items_in_project(element: items_in_project, compiler: SQLCompiler, **kw: Any) -> str:
    (project_id,) = element.clauses
    return compiler.process(_items.c.project_id == project_id, **kw)


@compiles(items_in_project, "sqlite")
def _items_in_project_sqlite(element: items_in_project, compiler: SQLCompiler, **kw: Any) -> str:
    (project_id,) = element.clauses
    return compiler.process((_items.c.project_id + 0) == project_id, **kw)
