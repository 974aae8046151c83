"""A release read back from the database, checked to be what the freeze wrote.

A release row edited in the database (its JSON replaced by a number, a column set to a value
of another type) must give one sentence naming the release, the row and what is wrong, not a
traceback from SQLAlchemy's type processing or from deep inside a format writer.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, DateTime, Integer, Text, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import KeyedColumnElement

from labelwise.db.models import Item, JSONText
from labelwise.db.release_models import Release
from labelwise.errors import Damaged, NotFound
from labelwise.formats.rows import ReleaseRow

# What each field of a stored row holds; the fields are exactly ReleaseRow's.
SHAPES: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "external_id": (str, type(None)),
    "data": (dict,),
    "answers": (dict,),
    "sources": (dict,),
    "probabilities": (dict,),
    "annotations": (list,),
}
_JSON_KINDS: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}
_items = Item.__table__
_releases = Release.__table__


def release(session: Session, project_id: int, name: str) -> Release:
    """Release `name` of the project, every column holding what the release wrote."""
    where = (_releases.c.project_id == project_id, _releases.c.name == name)
    try:
        found = session.scalar(select(Release).where(*where))
    except (ValueError, TypeError):  # a column SQLAlchemy can no longer convert
        raise _unreadable(session, name, where) from None
    if found is None:
        raise NotFound(f"release {name!r} not found")
    for column in _releases.columns:
        value = getattr(found, column.key)
        if value is not None and not isinstance(value, _python_type(column)):
            raise _wrong_column(name, column, value)
    return found


def _unreadable(session: Session, name: str, where: tuple[Any, ...]) -> Damaged:
    """Which column failed to convert, found by reading them one by one (a rare path)."""
    for column in _releases.columns:
        try:
            session.execute(select(column).where(*where)).all()
        except (ValueError, TypeError):
            raw = session.scalar(select(type_coerce(column, Text)).where(*where))
            return _wrong_column(name, column, raw)
    return Damaged(f"release {name!r}: its row in the releases table no longer reads")


def _python_type(column: KeyedColumnElement[Any]) -> type:
    """What the column reads as; a release's frozen spec is a JSON object."""
    return dict if isinstance(column.type, JSONText) else column.type.python_type


def _wrong_column(name: str, column: KeyedColumnElement[Any], value: Any) -> Damaged:
    return Damaged(
        f"release {name!r}: column {column.key} of the releases table holds {_shown(value)}, "
        f"expected {_expected(column)}; it was altered in the database"
    )


def _expected(column: KeyedColumnElement[Any]) -> str:
    kind = column.type
    if isinstance(kind, JSONText):
        return "a project spec (a JSON object)"
    if isinstance(kind, DateTime):
        return "a date and time"
    if isinstance(kind, Integer):
        return "a whole number"
    return "text"


def parsed(connection: Connection, name: str, item_id: Any, text: Any) -> ReleaseRow:
    """One stored row of release `name` as the freeze wrote it, or Damaged naming the item."""
    try:
        return _row(item_id, text)
    except _Wrong as wrong:
        where = _item(connection, item_id)
        raise Damaged(
            f"release {name!r}, {where}: {wrong}; it was altered in the database"
        ) from None


class _Wrong(Exception):
    """What is wrong with one stored row; `parsed` adds the release and the item."""


def _row(item_id: Any, text: Any) -> ReleaseRow:
    if not isinstance(item_id, int):
        raise _Wrong(f"column item_id holds {_shown(item_id)}, expected an item id")
    if not isinstance(text, str):
        raise _Wrong(f"column row holds {_shown(text)}, expected the row's JSON text")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise _Wrong(f"the stored row is not JSON ({error})") from None
    if not isinstance(value, dict):
        raise _Wrong(f"the stored row is {_JSON_KINDS[type(value)]}, expected a JSON object")
    if value.keys() != SHAPES.keys():
        fields = ", ".join(sorted(value.keys() ^ SHAPES.keys()))
        raise _Wrong(f"the stored row has other fields than a release row ({fields})")
    for field, kinds in SHAPES.items():
        if type(value[field]) not in kinds:
            found = _JSON_KINDS[type(value[field])]
            raise _Wrong(f"the stored row's {field} is {found}, not what the release wrote")
    if value["id"] != item_id:
        raise _Wrong(f"the stored row is item #{value['id']}'s")
    return ReleaseRow(**value)


def _item(connection: Connection, item_id: Any) -> str:
    """How a person finds the row's item: its external id and database id where known."""
    if not isinstance(item_id, int):
        return "a stored row"
    external = connection.scalar(select(_items.c.external_id).where(_items.c.id == item_id))
    return f"item #{item_id}" if external is None else f"item {external} (#{item_id})"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
