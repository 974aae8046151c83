"""The flat, one-row-per-item table that CSV and Parquet exports share.

Columns: id, external_id, status, one column per field of the project spec (text as is,
anything else as JSON), other_data (JSON of the remaining keys, empty when none) and
annotations (JSON). Nothing of the item is lost, and a spreadsheet shows the text.
"""

from __future__ import annotations

from typing import Any

import orjson

from labelwise.formats.rows import ExportRow

FIXED = ["id", "external_id", "status"]
TRAILING = ["other_data", "annotations"]


def columns(fields: list[str]) -> list[str]:
    return FIXED + fields + TRAILING


def cells(row: ExportRow, fields: list[str]) -> list[Any]:
    data = orjson.loads(row.data_json)
    values: list[Any] = [row.id, row.external_id, row.status]
    for name in fields:
        value = data.pop(name, None)
        values.append(value if value is None or isinstance(value, str) else _json(value))
    values.append(_json(data) if data else None)
    values.append(_json(row.annotations))
    return values


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
