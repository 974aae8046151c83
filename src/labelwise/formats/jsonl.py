"""JSON Lines: one JSON value per line; blank lines are allowed and ignored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

import orjson

from labelwise.formats.rows import ExportRow, ParsedRow, json_error

BATCH = 2000


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    loads = orjson.loads
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield ParsedRow(number, loads(line))
        except orjson.JSONDecodeError as error:
            yield ParsedRow(number, None, json_error(error))


def write(rows: Iterable[ExportRow], _fields: list[str]) -> Iterator[bytes]:
    dumps, fragment = orjson.dumps, orjson.Fragment
    chunk: list[bytes] = []
    for row in rows:
        chunk.append(
            dumps(
                {
                    "id": row.id,
                    "external_id": row.external_id,
                    "status": row.status,
                    "data": fragment(row.data_json),
                    "annotations": row.annotations,
                }
            )
        )
        if len(chunk) >= BATCH:
            yield b"\n".join(chunk) + b"\n"
            chunk.clear()
    if chunk:
        yield b"\n".join(chunk) + b"\n"
