"""Item import: streamed, one transaction per import, idempotent by external id or content.

Rows are validated against the project's fields, serialised once with sorted keys (the
stored form and the content hash agree), and inserted in batches with ON CONFLICT DO
NOTHING so that re-imports add nothing and the insert count says what was new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection

from labelwise.db.engine import Database
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.spec import FieldSpec, ProjectSpec

BATCH = 5000
MAX_EXTERNAL_ID = 255
_TEXT_TYPES = frozenset({"text", "markdown", "image"})


@dataclass(frozen=True)
class RowProblem:
    position: int
    message: str


@dataclass
class ImportSummary:
    source: str
    position_name: str  # "line" or "row"
    created: int = 0
    existing: int = 0
    skipped: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "existing": self.existing,
            "skipped": [{self.position_name: p.position, "error": p.message} for p in self.skipped],
        }


class _RowInvalid(Exception):
    pass


def import_items(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    rows: Iterable[ParsedRow],
    *,
    source: str,
    position_name: str = "line",
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every row or, on the first bad one, nothing (unless `skip_invalid`)."""
    summary = ImportSummary(source, position_name)
    check = _row_checker(spec.fields)
    insert = _pg_insert if not db.is_sqlite else _sqlite_insert
    with db.write() as session:
        connection = session.connection()
        for batch in _batches(rows, check, summary, skip_invalid):
            created = insert(connection, project_id, batch)
            summary.created += created
            summary.existing += len(batch) - created
            if progress:
                progress(len(batch))
    return summary


def _batches(
    rows: Iterable[ParsedRow],
    check: Callable[[Any], tuple[str | None, str | None, str]],
    summary: ImportSummary,
    skip_invalid: bool,
) -> Iterator[list[tuple[str | None, str | None, str]]]:
    batch: list[tuple[str | None, str | None, str]] = []
    for position, value, error in rows:
        try:
            if error is not None:
                raise _RowInvalid(error)
            batch.append(check(value))
        except _RowInvalid as problem:
            if not skip_invalid:
                raise InvalidInput(
                    f"{summary.source}, {summary.position_name} {position}: {problem}; "
                    "nothing was imported"
                ) from None
            summary.skipped.append(RowProblem(position, str(problem)))
            continue
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _row_checker(
    fields: Iterable[FieldSpec],
) -> Callable[[Any], tuple[str | None, str | None, str]]:
    checks = [(f.name, f.type, f.required) for f in fields]
    dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS
    blake2b = hashlib.blake2b

    def check(value: Any) -> tuple[str | None, str | None, str]:
        if not isinstance(value, dict):
            raise _RowInvalid(f"expected an object, found {_kind(value)}")
        external_id = _external_id(value.pop("id", None))
        for name, kind, required in checks:
            _check_field(value, name, kind, required)
        try:
            encoded = dumps(value, option=sort_keys)
        except TypeError as error:
            raise _RowInvalid(f"value cannot be stored as JSON ({error})") from None
        content_hash = None if external_id else blake2b(encoded, digest_size=16).hexdigest()
        return external_id, content_hash, encoded.decode()

    return check


def _external_id(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _RowInvalid(f"field 'id': expected a string or an integer, found {_kind(raw)}")
    external_id = str(raw).strip()
    if len(external_id) > MAX_EXTERNAL_ID:
        raise _RowInvalid(f"field 'id': longer than {MAX_EXTERNAL_ID} characters")
    return external_id or None


def _check_field(data: dict[str, Any], name: str, kind: str, required: bool) -> None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _RowInvalid(f"field {name!r} is missing")
        return
    if kind in _TEXT_TYPES:
        if not isinstance(value, str):
            raise _RowInvalid(f"field {name!r}: expected a string, found {_kind(value)}")
    elif kind == "chat":
        data[name] = _chat(name, _maybe_json(value))
    elif kind == "pair":
        data[name] = _pair(name, _maybe_json(value))
    elif isinstance(value, dict | list):  # metadata must be usable as a slice key
        raise _RowInvalid(f"field {name!r}: expected a plain value, found {_kind(value)}")


def _maybe_json(value: Any) -> Any:
    """CSV cells are strings: a chat or pair field there is written as JSON."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _chat(name: str, value: Any) -> Any:
    if not isinstance(value, list) or not all(
        isinstance(turn, dict) and isinstance(turn.get("content"), str) for turn in value
    ):
        raise _RowInvalid(
            f'field {name!r}: expected a list of turns like {{"role": "user", "content": "..."}}'
        )
    return value


def _pair(name: str, value: Any) -> Any:
    if not isinstance(value, dict) or not {"a", "b"} <= value.keys():
        raise _RowInvalid(f'field {name!r}: expected an object with responses "a" and "b"')
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


_SQLITE_INSERT = (
    "INSERT INTO items (project_id, external_id, content_hash, data) "
    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def _sqlite_insert(
    connection: Connection, project_id: int, batch: list[tuple[str | None, str | None, str]]
) -> int:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(_SQLITE_INSERT, [(project_id, *row) for row in batch])
    return int(cursor.rowcount)


def _pg_insert(
    connection: Connection, project_id: int, batch: list[tuple[str | None, str | None, str]]
) -> int:
    """COPY into a scratch table, then one INSERT ... SELECT keeps the conflict rules."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS import_rows "
        "(n bigint, external_id text, content_hash text, data text) ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE import_rows")
    with cursor.copy("COPY import_rows (n, external_id, content_hash, data) FROM STDIN") as copy:
        for n, row in enumerate(batch):
            copy.write_row((n, *row))
    cursor.execute(
        "INSERT INTO items (project_id, external_id, content_hash, data) "
        "SELECT %s, external_id, content_hash, data FROM import_rows ORDER BY n "
        "ON CONFLICT DO NOTHING",
        (project_id,),
    )
    return int(cursor.rowcount)
