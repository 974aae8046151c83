"""Export: every item with its annotations, streamed page by page in one read snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, select, type_coerce
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Item, Project, User
from labelwise.formats import ExportRow, Format

PAGE = 5000


def export(db: Database, project: Project, field_names: list[str], fmt: Format) -> Iterator[bytes]:
    """The project's items in `fmt`, as byte chunks; memory stays flat whatever the size."""
    assert fmt.write is not None
    return fmt.write(_rows(db, project.id), field_names)


def _rows(db: Database, project_id: int) -> Iterator[ExportRow]:
    in_project = _in_project(db, project_id)
    with db.snapshot() as session:
        usernames = dict(session.execute(select(User.id, User.username)).tuples().all())
        after = 0
        while True:
            items = session.execute(
                select(Item.id, Item.external_id, Item.status, type_coerce(Item.data, Text))
                .where(in_project, Item.id > after)
                .order_by(Item.id)
                .limit(PAGE)
            ).all()
            if not items:
                return
            annotations = _annotations(session, project_id, items[0][0], items[-1][0], usernames)
            for item_id, external_id, status, data_json in items:
                yield ExportRow(
                    item_id, external_id, status, data_json, annotations.get(item_id, [])
                )
            after = items[-1][0]


def _in_project(db: Database, project_id: int) -> ColumnElement[bool]:
    """The page filter, written so that each page costs the same however big the project.

    Without statistics SQLite answers `project_id = ?` from an index that does not hold
    the id order, so every page would read and sort all the project's items: quadratic.
    `project_id + 0` cannot use that index; SQLite then walks the primary key from the
    last id of the previous page. (PostgreSQL has statistics, refreshed after imports.)
    """
    if db.is_sqlite:
        return (Item.project_id + 0) == project_id
    return Item.project_id == project_id


def _annotations(
    session: Session, project_id: int, first: int, last: int, usernames: dict[int, str]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    rows = session.execute(
        select(
            Annotation.item_id,
            Annotation.user_id,
            type_coerce(Annotation.answers, Text),
            Annotation.time_ms,
            Annotation.created_at,
            Annotation.updated_at,
        )
        .where(Annotation.project_id == project_id, Annotation.item_id.between(first, last))
        .order_by(Annotation.item_id, Annotation.id)
    )
    for item_id, user_id, answers, time_ms, created_at, updated_at in rows:
        found.setdefault(item_id, []).append(
            {
                "annotator": usernames.get(user_id),
                "answers": orjson.Fragment(answers),
                "time_ms": time_ms,
                "created_at": _iso(created_at),
                "updated_at": _iso(updated_at),
            }
        )
    return found


def _iso(moment: datetime) -> str:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: print both alike."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
