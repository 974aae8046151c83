"""Apache Parquet, read and written one row group at a time."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from labelwise.formats import table
from labelwise.formats.rows import ExportRow, ParsedRow

BATCH = 20_000


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError) as error:
        yield ParsedRow(1, None, f"not a readable Parquet file ({error})")
        return
    number = 0
    for batch in parquet.iter_batches(batch_size=BATCH):
        for record in batch.to_pylist():
            number += 1
            problem = _unsupported(record)
            if problem:
                yield ParsedRow(number, None, problem)
            else:
                yield ParsedRow(number, {k: _plain(v) for k, v in record.items()})


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


def _unsupported(record: dict[str, Any]) -> str | None:
    for key, value in record.items():
        if isinstance(value, bytes):
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
        batch: list[list[Any]] = []
        for row in rows:
            batch.append(table.cells(row, fields))
            if len(batch) >= BATCH:
                writer.write_batch(_record_batch(batch, schema))
                batch.clear()
                yield sink.take()
        if batch:
            writer.write_batch(_record_batch(batch, schema))
    yield sink.take()


def _record_batch(batch: list[list[Any]], schema: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*batch, strict=True))
    return pa.RecordBatch.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)],
        schema=schema,
    )
