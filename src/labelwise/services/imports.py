"""Item import: streamed, one transaction per import, idempotent by external id or content.

Rows are validated against the project's fields, serialised once with sorted keys (the
stored form and the content hash agree), and inserted in batches with ON CONFLICT DO
NOTHING so that re-imports add nothing and the insert count says what was new. A row's
`id` and `priority` are not data: they are the item's external id and its place in the
queue. Import never changes an item that is there already, its priority included; the
summary counts the rows that asked for another one (`services.priorities` changes it).

Reading and checking rows is Python work; inserting them is database work, during which
the sqlite3 and psycopg drivers release the GIL. A helper thread reads and checks the next
batches while the current one is inserted, so on two cores the two overlap.
"""

from __future__ import annotations

import hashlib
import math
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from labelwise.db.engine import Database
from labelwise.db.labeling import ItemRow, store
from labelwise.db.models import Item
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.privacy import Findings, Scrubber, content_key, project_key
from labelwise.services import audit
from labelwise.spec import FieldSpec, ProjectSpec

# Rows per insert; fewer when they hold over BATCH_BYTES of data, so that memory and the
# size of SQLite's statement stay bounded whatever the size of the items.
BATCH = 5000
BATCH_BYTES = 16 << 20
MAX_EXTERNAL_ID = 255
# Batches read ahead of the database: enough to keep it busy, few enough to keep memory flat.
READ_AHEAD = 2
_TEXT_TYPES = frozenset({"text", "markdown", "image"})
_SCALARS: frozenset[type] = frozenset({str, int, float, bool})

T = TypeVar("T")


@dataclass(frozen=True)
class RowProblem:
    position: int | str
    message: str


@dataclass
class ImportSummary:
    source: str
    position_name: str  # "line", "row" or "file"
    created: int = 0
    existing: int = 0
    # Rows of items already there that gave another priority than the item's: not applied.
    priority_unchanged: int = 0
    skipped: list[RowProblem] = field(default_factory=list)
    # PII the project's rule found in the rows read, {field: {kind: count}}: in rows of items
    # already there too (those items are left as they were).
    pii: Findings = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "existing": self.existing,
            "priority_unchanged": self.priority_unchanged,
            "skipped": [{self.position_name: p.position, "error": p.message} for p in self.skipped],
            "pii": self.pii,
        }

    def add_pii(self, findings: Findings) -> None:
        for name, counts in findings.items():
            total = self.pii.setdefault(name, {})
            for kind, count in counts.items():
                total[kind] = total.get(kind, 0) + count


class RowInvalid(ValueError):
    """A row's problem, said in a few words; the caller adds the file and line."""


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
    pii_key: Callable[[], bytes] | None = None,
    actor_id: int | None = None,
) -> ImportSummary:
    """Import every row or, on the first bad one, nothing (unless `skip_invalid`).

    `pii_key` loads the data dir's PII key (`Settings.load_pii_key`); it is called only when
    the project's PII rule rewrites values, which needs it. An import that adds items leaves
    an `items.imported` audit event, in a transaction of its own after the items' so that
    labeling in the project, which appends to the same chain, never waits for an import.
    """
    summary = ImportSummary(source, position_name)
    rule = _pii_rule(spec, project_id, pii_key)
    batches = _batches(
        rows, _row_checker(spec.fields, rule, summary.add_pii), summary, skip_invalid
    )
    with _ReadAhead(batches, READ_AHEAD) as ready, db.write() as session:
        labeling = store(session)
        labeling.begin_import(project_id)
        for batch in ready:
            created = labeling.insert_items(project_id, batch)
            summary.created += created
            summary.existing += len(batch) - created
            if created < len(batch):
                summary.priority_unchanged += _other_priorities(session, project_id, batch)
            if progress:
                progress(len(batch))
        labeling.refresh_item_statistics(summary.created)
    if summary.created:
        with db.write() as session:
            audit.record(
                session,
                project_id=project_id,
                actor_id=actor_id,
                action="items.imported",
                target_type="project",
                target_id=project_id,
                after={
                    "source": source,
                    "created": summary.created,
                    "existing": summary.existing,
                    "skipped": len(summary.skipped),
                },
                last=True,
            )
    return summary


def _other_priorities(session: Session, project_id: int, batch: list[ItemRow]) -> int:
    """Rows of the batch that give a priority other than their item's (existing ones: a
    new item took the row's priority). Only reads when rows carry one."""
    asked = [row for row in batch if row[3] is not None]
    ids = [row[0] for row in asked if row[0] is not None]
    hashes = [row[1] for row in asked if row[0] is None]
    # Each lookup on the conditions of its unique index, so that it probes the index.
    in_project = Item.project_id == project_id
    by_id = _stored_priorities(session, Item.external_id, ids, in_project)
    by_hash = _stored_priorities(
        session, Item.content_hash, hashes, in_project, Item.external_id.is_(None)
    )
    return sum(
        (by_id.get(row[0]) if row[0] is not None else by_hash.get(row[1])) != row[3]
        for row in asked
    )


def _stored_priorities(
    session: Session,
    key: InstrumentedAttribute[str | None],
    values: Sequence[str | None],
    *where: ColumnElement[bool],
) -> dict[str | None, float]:
    if not values:
        return {}
    rows = session.execute(select(key, Item.priority).where(*where, key.in_(values)))
    return {value: priority for value, priority in rows}


def _batches(
    rows: Iterable[ParsedRow],
    check: Callable[[Any], ItemRow],
    summary: ImportSummary,
    skip_invalid: bool,
) -> Iterator[list[ItemRow]]:
    batch: list[ItemRow] = []
    size = 0
    for position, value, error in rows:
        try:
            if error is not None:
                raise RowInvalid(error)
            checked = check(value)
        except RowInvalid as problem:
            if not skip_invalid:
                raise InvalidInput(
                    f"{summary.source}, {summary.position_name} {position}: {problem}; "
                    "nothing was imported"
                ) from None
            summary.skipped.append(RowProblem(position, str(problem)))
            continue
        batch.append(checked)
        size += len(checked[2])
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


class _ReadAhead(Generic[T]):
    """Iterate `source` in a helper thread, at most `depth` items ahead of the consumer.

    An error raised by `source` is raised again in the consumer; leaving the `with` block
    early (the database failed) stops the helper thread before returning.
    """

    def __init__(self, source: Iterator[T], depth: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="import-reader", daemon=True
        )

    def __enter__(self) -> Iterator[T]:
        self._thread.start()
        return self._results()

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(_Failed(error))

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _results(self) -> Iterator[T]:
        while (item := self._queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]


@dataclass(frozen=True)
class _PiiRule:
    """A project's PII rule as an import applies it."""

    scrubber: Scrubber
    # Rewriting modes hash each row as it came, with this key (`privacy.content_key`).
    hash_key: bytes | None


def _pii_rule(
    spec: ProjectSpec, project_id: int, data_key: Callable[[], bytes] | None
) -> _PiiRule | None:
    """The spec's rule, None without one; flagging needs no key, so it reads none."""
    pii = spec.privacy.pii
    if pii is None:
        return None
    if pii.mode == "flag":
        return _PiiRule(Scrubber(pii.fields, pii.detect, pii.mode), None)
    if data_key is None:
        raise ValueError(f"the project's PII mode is {pii.mode}: the import needs the PII key")
    key = data_key()
    scrubber = Scrubber(pii.fields, pii.detect, pii.mode, project_key(key, project_id))
    return _PiiRule(scrubber, content_key(key, project_id))


def _row_checker(
    fields: Iterable[FieldSpec], pii: _PiiRule | None, found: Callable[[Findings], None]
) -> Callable[[Any], ItemRow]:
    """A function that checks one row and returns what to store.

    It runs once per row, so the common case is kept to a type test per field; anything
    unusual (a missing value, a chat or pair field, a wrong type) goes to `_check_field`.
    """
    checks = [(f.name, _plain_types(f), f.type, f.required) for f in fields]
    dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS
    blake2b = hashlib.blake2b
    scrub = None if pii is None else pii.scrubber.scrub
    hash_key = None if pii is None else pii.hash_key

    def check(value: Any) -> ItemRow:
        if not isinstance(value, dict):
            raise RowInvalid(f"expected an object, found {_kind(value)}")
        external_id = external_id_of(value.pop("id", None))
        priority = priority_of(value.pop("priority", None))
        for name, plain, kind, required in checks:
            item = value.get(name)
            if item.__class__ not in plain or item == "":
                _check_field(value, name, kind, required)
        stored, findings = (value, None) if scrub is None else scrub(value)
        try:
            encoded = dumps(stored, option=sort_keys)
        except TypeError as error:
            raise RowInvalid(f"value cannot be stored as JSON ({error})") from None
        if external_id:
            content_hash = None
        elif hash_key is None:
            content_hash = blake2b(encoded, digest_size=16).hexdigest()
        else:
            given = encoded if stored is value else dumps(value, option=sort_keys)
            content_hash = blake2b(given, digest_size=16, key=hash_key).hexdigest()
        if findings is None:
            return external_id, content_hash, encoded.decode(), priority, None
        found(findings)
        return external_id, content_hash, encoded.decode(), priority, dumps(findings).decode()

    return check


def _plain_types(spec: FieldSpec) -> frozenset[type]:
    """The value types a field accepts as they are (the empty string aside)."""
    accepted: frozenset[type]
    if spec.type in _TEXT_TYPES:
        accepted = frozenset({str})
    elif spec.type == "metadata":
        accepted = _SCALARS
    else:  # chat and pair values are checked, and may be parsed, every time
        return frozenset()
    return accepted if spec.required else accepted | {type(None)}


def external_id_of(raw: Any) -> str | None:
    """A row's `id`: a string or an integer, as text; None when it has none."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise RowInvalid(f"field 'id': expected a string or an integer, found {_kind(raw)}")
    external_id = str(raw).strip()
    if len(external_id) > MAX_EXTERNAL_ID:
        raise RowInvalid(f"field 'id': longer than {MAX_EXTERNAL_ID} characters")
    return external_id or None


def priority_of(raw: Any) -> float | None:
    """A row's `priority`: a finite number, or its text (CSV cells are text); None when the
    row has none, and the item takes the default, 0."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise RowInvalid(f"field 'priority': expected a number, found {_kind(raw)}")
    try:
        value = float(raw)
    except ValueError:  # text that is not a number
        found = str(raw)[:40]
        raise RowInvalid(f"field 'priority': expected a number, found {found!r}") from None
    except OverflowError:  # an integer beyond any float
        value = math.inf
    if not math.isfinite(value):
        raise RowInvalid(f"field 'priority': expected a finite number, found {str(raw)[:40]}")
    return value


def _check_field(data: dict[str, Any], name: str, kind: str, required: bool) -> None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise RowInvalid(f"field {name!r} is missing")
        return
    if kind in _TEXT_TYPES:
        if not isinstance(value, str):
            raise RowInvalid(f"field {name!r}: expected a string, found {_kind(value)}")
    elif kind == "chat":
        data[name] = _chat(name, _maybe_json(value))
    elif kind == "pair":
        data[name] = _pair(name, _maybe_json(value))
    elif isinstance(value, dict | list):  # metadata must be usable as a slice key
        raise RowInvalid(f"field {name!r}: expected a plain value, found {_kind(value)}")


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
        raise RowInvalid(
            f'field {name!r}: expected a list of turns like {{"role": "user", "content": "..."}}'
        )
    return value


def _pair(name: str, value: Any) -> Any:
    if not isinstance(value, dict) or not {"a", "b"} <= value.keys():
        raise RowInvalid(f'field {name!r}: expected an object with responses "a" and "b"')
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
