"""JSON Lines: one JSON value per line; blank lines are allowed and ignored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

import orjson

from labelwise.formats import release_table
from labelwise.formats.rows import (
    CHUNK_BYTES,
    ExportRow,
    ParsedRow,
    ReleaseLayout,
    ReleaseRow,
    json_error,
)

BOM = b"\xef\xbb\xbf"


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    loads = orjson.loads
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(BOM)  # some Windows tools start UTF-8 text with one
        if not line.strip():
            continue
        try:
            yield ParsedRow(number, loads(line))
        except orjson.JSONDecodeError as error:
            yield ParsedRow(number, None, json_error(error))


def write(rows: Iterable[ExportRow], _fields: list[str]) -> Iterator[bytes]:
    fragment = orjson.Fragment
    return _lines(
        {
            "id": row.id,
            "external_id": row.external_id,
            "status": row.status,
            "data": fragment(row.data_json),
            "annotations": row.annotations,
            **row.outcome,
        }
        for row in rows
    )


def write_release(rows: Iterable[ReleaseRow], layout: ReleaseLayout) -> Iterator[bytes]:
    """One object per item: id, external_id, data, answers and sources (questions in spec
    order), then probabilities (with layout.soft) and annotations (with layout.annotators)."""
    return _lines(_release_record(row, layout) for row in rows)


def _lines(records: Iterable[object]) -> Iterator[bytes]:
    """Each record as a line of JSON, handed out about CHUNK_BYTES at a time."""
    dumps = orjson.dumps
    out = bytearray()
    for record in records:
        out += dumps(record)
        out += b"\n"
        if len(out) >= CHUNK_BYTES:
            yield bytes(out)
            out.clear()
    if out:
        yield bytes(out)


def _release_record(row: ReleaseRow, layout: ReleaseLayout) -> dict[str, object]:
    record: dict[str, object] = {
        "id": row.id,
        "external_id": row.external_id,
        "data": orjson.Fragment(orjson.dumps(row.data, option=orjson.OPT_SORT_KEYS)),
        "answers": release_table.answers(layout, row.answers),
        "sources": {q.name: row.sources.get(q.name) for q in layout.questions},
    }
    if layout.soft:
        record["probabilities"] = {
            q.name: release_table.probabilities(q, row.probabilities.get(q.name))
            for q in layout.questions
            if row.probabilities.get(q.name)
        }
    if layout.annotators:
        record["annotations"] = release_table.annotator_answers(layout, row)
    return record
