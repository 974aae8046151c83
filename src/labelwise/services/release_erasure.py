"""What an erasure takes out of the dataset releases, and the record that says so.

A release stores its items' content (`releases`), so an erased item's rows are removed from
every release that froze it, and an erased person's answers (kept under their name) from
every row that lists them. Its dataset card loses the erased item's open questions and the
person's, and names the person by their pseudonym. The release keeps the content hash it was
made with; each erasure adds a `release_erasures` row with who, when, what, and the hash of
the stored rows after it, so `releases.verify` can tell rows taken out by an erasure from rows
altered in the database behind the application's back. (The card is not hashed.)

Called inside the erasure's write transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from labelwise.db.pages import keyset_pages, read_on
from labelwise.db.release_models import Release, ReleaseErasure, ReleaseRowRecord

PAGE = 5000
_rows = cast(Table, ReleaseRowRecord.__table__)
_erasures = cast(Table, ReleaseErasure.__table__)
_releases = cast(Table, Release.__table__)


def remove_item(session: Session, item_id: int, erased: str, actor_id: int | None) -> int:
    """Take item `item_id`'s rows out of every release; the number of releases changed."""
    connection = session.connection()
    holding = connection.scalars(
        select(_rows.c.release_id).where(_rows.c.item_id == item_id).order_by(_rows.c.release_id)
    ).all()
    for release_id in holding:
        connection.execute(
            delete(_rows).where(_rows.c.release_id == release_id, _rows.c.item_id == item_id)
        )
        _record(connection, release_id, erased, 1, 0, actor_id)
    return len(holding)


def remove_annotator(session: Session, username: str, erased: str, actor_id: int | None) -> int:
    """Take `username`'s answers out of every release row listing them; releases changed."""
    connection = session.connection()
    mark = orjson.dumps({"annotator": username}).decode()[1:-1]  # '"annotator":"name"'
    query = select(_rows.c.release_id, _rows.c.item_id, _rows.c.row).where(
        _rows.c.row.contains(mark, autoescape=True)
    )
    changed: dict[int, int] = {}
    for release_id, item_id, text in connection.execute(query).all():
        row = orjson.loads(text)
        row["annotations"] = [a for a in row["annotations"] if a.get("annotator") != username]
        connection.execute(
            update(_rows)
            .where(_rows.c.release_id == release_id, _rows.c.item_id == item_id)
            .values(row=orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode())
        )
        changed[release_id] = changed.get(release_id, 0) + 1
    for release_id, rows in sorted(changed.items()):
        _record(connection, release_id, erased, 0, rows, actor_id)
    return len(changed)


def scrub_cards(
    session: Session,
    project_id: int | None,
    drop: Callable[[str], bool],
    rename: tuple[str, str] | None = None,
) -> None:
    """Drop the card lines `drop` picks and rename an annotator's table rows, in the
    project's releases (None: every project's)."""
    connection = session.connection()
    query = select(_releases.c.id, _releases.c.card)
    if project_id is not None:
        query = query.where(_releases.c.project_id == project_id)
    for release_id, card in connection.execute(query).all():
        lines = [line for line in card.split("\n") if not drop(line)]
        if rename is not None:
            old, new = rename
            lines = [new + line[len(old) :] if line.startswith(old) else line for line in lines]
        if (scrubbed := "\n".join(lines)) != card:
            connection.execute(
                update(_releases).where(_releases.c.id == release_id).values(card=scrubbed)
            )


def _record(
    connection: Connection,
    release_id: int,
    erased: str,
    removed: int,
    changed: int,
    actor_id: int | None,
) -> None:
    connection.execute(
        insert(_erasures).values(
            release_id=release_id,
            erased=erased,
            rows_removed=removed,
            rows_changed=changed,
            content_hash=content_hash(stored(connection, release_id)),
            erased_by=actor_id,
        )
    )


def content_hash(texts: Iterator[str]) -> str:
    """The SHA-256 of a release's stored rows in item order, as the freeze computes it."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode() + b"\n")
    return digest.hexdigest()


def stored(connection: Connection, release_id: int) -> Iterator[Any]:
    """A release's stored row texts in item order, a keyset page at a time."""
    query = select(_rows.c.item_id, _rows.c.row).where(_rows.c.release_id == release_id)
    for page in keyset_pages(read_on(connection), query, _rows.c.item_id, start=-1, size=PAGE):
        yield from (text for _, text in page)
