"""The shapes every import reader yields and every export writer takes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, NamedTuple

import orjson

# Writers hand back output about this big at a time, however large or small the items are.
CHUNK_BYTES = 1 << 20


class ParsedRow(NamedTuple):
    """One input record: its position (line, or row for binary formats) and value or error."""

    position: int
    value: Any
    error: str | None = None


class ExportRow(NamedTuple):
    """One item to export. A tuple, since an export makes one per item and that adds up."""

    id: int
    external_id: str | None
    status: str
    data_json: str  # stored JSON text, spliced into output without re-parsing
    annotations: list[dict[str, Any]]
    # What people settled about the item: final_answers, escalations, comments.
    outcome: dict[str, Any]


Reader = Callable[[IO[bytes]], Iterator[ParsedRow]]
Writer = Callable[[Iterable[ExportRow], list[str]], Iterator[bytes]]


def json_error(error: orjson.JSONDecodeError, *, column: bool = True) -> str:
    where = f" at column {error.colno}" if column else ""
    return f"invalid JSON{where}: {error.msg}"
