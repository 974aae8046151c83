"""Reading a whole project in keyset pages of items, the same way everywhere."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from labelwise.db.models import Item

_items = Item.__table__


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
