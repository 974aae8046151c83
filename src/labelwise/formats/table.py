"""The flat, one-row-per-item table that CSV and Parquet exports share.

Columns: id, external_id, status, one column per field of the project spec (text as is,
anything else as JSON), other_data (JSON of the remaining keys, empty when none),
annotations (JSON), final_answers (JSON, when a person settled the item), discussion
(JSON: escalations and comments) and consensus (JSON, when asked for). Nothing of the item
is lost, and a spreadsheet shows the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from labelwise.formats.rows import ExportRow

FIXED = ["id", "external_id", "status"]
TRAILING = ["other_data", "annotations", "final_answers", "discussion", "consensus"]


def columns(fields: list[str]) -> list[str]:
    return FIXED + fields + TRAILING


def cells(row: ExportRow, fields: list[str]) -> list[Any]:
    """One row of the table (CSV)."""
    return [
        row.id,
        row.external_id,
        row.status,
        *_data_cells(row.data_json, fields),
        annotations_cell(row.annotations),
        *outcome_cells(row.outcome),
    ]


def outcome_cells(outcome: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    final, agreed = outcome["final_answers"], outcome["consensus"]
    discussion = {k: outcome[k] for k in ("escalations", "comments") if outcome[k]}
    return (
        None if final is None else _json(final),
        _json(discussion) if discussion else None,
        None if agreed is None else _json(agreed),
    )


def data_columns(data: Sequence[str], fields: list[str]) -> list[Sequence[str | None]]:
    """The field columns and other_data of several items, from their stored JSON (Parquet)."""
    return list(zip(*[_data_cells(item, fields) for item in data], strict=True))


def annotations_cell(annotations: list[dict[str, Any]]) -> str:
    return _json(annotations) if annotations else "[]"


def _data_cells(data_json: str, fields: list[str]) -> list[str | None]:
    data = orjson.loads(data_json)
    values = [_cell(data.pop(name, None)) for name in fields]
    values.append(_json(data) if data else None)
    return values


def _cell(value: Any) -> str | None:
    return value if value is None or value.__class__ is str else _json(value)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
