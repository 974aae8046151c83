"""Item priorities set in bulk, by external id: the queue serves higher priorities first.

Active learning ranks a project's items outside labelwise and hands the ranking back here, so
one call may name every item: batches of pairs go to the database in one statement each,
and the whole call is one unit of work with one audit event (a chain of 100k events would
cost more than the update it records).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from pydantic import Field

from labelwise.db.engine import Database
from labelwise.db.labeling import store
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.services import audit
from labelwise.services.imports import RowInvalid, external_id_of, priority_of

BATCH = 10_000

Pair = tuple[str, float]


@dataclass(frozen=True)
class PrioritiesSet:
    updated: Annotated[int, Field(description="Items whose priority was set.")]
    unknown: Annotated[list[str], Field(description="Ids with no item in the project.")]


def set_priorities(
    db: Database,
    project_id: int,
    rows: Iterable[ParsedRow],
    *,
    source: str,
    position_name: str = "line",
    actor_id: int | None = None,
) -> PrioritiesSet:
    """Set each row's `{"id": external id, "priority": number}`. All or nothing: a bad row
    fails the whole call, naming its line. Unknown ids are answered, not an error: the
    ranking may name items that were never imported.

    The audit event (`items.prioritized`) holds the counts and the SHA-256 of the pairs as
    given, one `["id", priority]` JSON line each, so it can be checked against the file.
    """
    digest = hashlib.sha256()
    updated = 0
    unknown: list[str] = []
    with db.write() as session:
        labeling = store(session)
        labeling.begin_import(project_id)
        for batch in _batches(rows, source, position_name, digest.update):
            found = set(labeling.set_priorities(project_id, batch))
            updated += len(found)
            unknown.extend(external_id for external_id, _ in batch if external_id not in found)
        if updated:
            audit.record(
                session,
                project_id=project_id,
                actor_id=actor_id,
                action="items.prioritized",
                target_type="project",
                target_id=project_id,
                after={"updated": updated, "unknown": len(unknown), "sha256": digest.hexdigest()},
            )
    return PrioritiesSet(updated, unknown)


def _batches(
    rows: Iterable[ParsedRow], source: str, position_name: str, hash_line: Callable[[bytes], None]
) -> Iterator[list[Pair]]:
    seen: set[str] = set()  # an id given twice is a mistake in the ranking, not a choice
    batch: list[Pair] = []
    for position, value, error in rows:
        try:
            pair = _pair(value, error, seen)
        except RowInvalid as problem:
            raise InvalidInput(
                f"{source}, {position_name} {position}: {problem}; no priority was changed"
            ) from None
        hash_line(orjson.dumps(pair) + b"\n")
        batch.append(pair)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _pair(value: Any, error: str | None, seen: set[str]) -> Pair:
    if error is not None:
        raise RowInvalid(error)
    if not isinstance(value, dict):
        raise RowInvalid('expected {"id": external id, "priority": number}')
    external_id = external_id_of(value.get("id"))
    if external_id is None:
        raise RowInvalid("field 'id' is missing")
    priority = priority_of(value.get("priority"))
    if priority is None:
        raise RowInvalid("field 'priority' is missing")
    if external_id in seen:
        raise RowInvalid(f"id {external_id!r} is given twice")
    seen.add(external_id)
    return external_id, priority
