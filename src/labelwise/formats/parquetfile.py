"""Apache Parquet, read and written one row group at a time."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

from labelwise.formats import release_table, table
from labelwise.formats.rows import ExportRow, ParsedRow, ReleaseLayout, ReleaseRow

BATCH = 20_000
# A row group (one batch written) holds at most BATCH rows or about this much item data.
ROW_GROUP_BYTES = 16 << 20


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError) as error:
        yield ParsedRow(1, None, f"not a readable Parquet file ({error})")
        return
    number = 0
    batches = parquet.iter_batches(batch_size=BATCH)
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as error:  # a damaged page further on
            yield ParsedRow(number + 1, None, f"unreadable Parquet data ({error})")
            return
        if batch is None:
            return
        convert = [f.name for f in batch.schema if not _json_ready(f.type)]
        for record in batch.to_pylist():
            number += 1
            problem = _unsupported(record, convert)
            if problem:
                yield ParsedRow(number, None, problem)
                continue
            for name in convert:
                record[name] = _plain(record[name])
            yield ParsedRow(number, record)


def _json_ready(kind: pa.DataType) -> bool:
    """Columns whose Python values need no conversion (most of them: a check per row is dear)."""
    types = pa.types
    return bool(
        types.is_string(kind)
        or types.is_large_string(kind)
        or types.is_integer(kind)
        or types.is_floating(kind)
        or types.is_boolean(kind)
        or types.is_null(kind)
    )


def _plain(value: Any) -> Any:
    """Turn Arrow's Python values into JSON-ready ones."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _unsupported(record: dict[str, Any], columns: list[str]) -> str | None:
    for key in columns:
        if isinstance(record[key], bytes):
            return f"column {key!r}: binary values are not supported"
    return None


class _Sink:
    """A file-like target that hands back what pyarrow wrote since the last call."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def write(rows: Iterable[ExportRow], fields: list[str]) -> Iterator[bytes]:
    names = table.columns(fields)
    schema = pa.schema(
        [pa.field("id", pa.int64())] + [pa.field(name, pa.string()) for name in names[1:]]
    )
    sink = _Sink()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        batch: list[ExportRow] = []
        size = 0
        for row in rows:
            batch.append(row)
            size += len(row.data_json)
            if len(batch) >= BATCH or size >= ROW_GROUP_BYTES:
                writer.write_table(_table(batch, fields, schema))
                batch.clear()
                size = 0
                yield sink.take()
        if batch:
            writer.write_table(_table(batch, fields, schema))
    yield sink.take()


def _table(batch: list[ExportRow], fields: list[str], schema: pa.Schema) -> pa.Table:
    ids, external_ids, statuses, data, annotations, outcomes = zip(*batch, strict=True)
    field_columns = _text_fields_only(data, fields) or table.data_columns(data, fields)
    columns = [
        ids,
        external_ids,
        statuses,
        *field_columns,
        [table.annotations_cell(a) for a in annotations],
        *zip(*(table.outcome_cells(o) for o in outcomes), strict=True),
    ]
    return pa.Table.from_arrays(
        [_array(column, field.type) for column, field in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _text_fields_only(data: Sequence[str], fields: list[str]) -> list[pa.Array] | None:
    """The field columns (and an empty other_data), when Arrow's JSON reader can make them.

    It can when every item holds nothing but the spec's fields, as text or null: the usual
    case, done in C++ several times faster than item by item in Python. Otherwise (another
    key, a number, a list) it refuses the batch, and `table.data_columns` does it.
    """
    options = pajson.ParseOptions(
        explicit_schema=pa.schema([(name, pa.string()) for name in fields]),
        unexpected_field_behavior="error",
    )
    try:
        parsed = pajson.read_json(pa.py_buffer("\n".join(data).encode()), parse_options=options)
    except pa.ArrowInvalid:
        return None
    return [*(parsed.column(name) for name in fields), pa.nulls(len(data), pa.string())]


def _array(values: Any, kind: pa.DataType) -> Any:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    return pa.array(values, type=kind)


def write_release(rows: Iterable[ReleaseRow], layout: ReleaseLayout) -> Iterator[bytes]:
    """The flat release table (see release_table) with typed columns: answers as strings,
    integers, floats, lists of labels or lists of {start, end, label}; a row group per batch."""
    columns = release_table.columns(layout)
    sink = _Sink()
    with pq.ParquetWriter(sink, release_table.schema(columns), compression="zstd") as writer:
        for batch in release_table.batches(rows):
            writer.write_batch(release_table.record_batch(batch, columns))
            yield sink.take()
    yield sink.take()
