"""Rows to import, as NDJSON, a batch at a time: a list or any iterable of dicts, a pandas or
polars DataFrame, or a Hugging Face `datasets.Dataset` / `IterableDataset`.

Each batch is converted and handed to the request body on its own, so memory holds one
batch, never the dataset. One row is one line: the server's "line N" is the N-th row given.
The table libraries are looked up in `sys.modules` only: an object of a library that was
never imported cannot be one of its tables, so the SDK imports none of them itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from labelwise.client._errors import Invalid

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
# pd.NaT and pd.NA, known by name: pandas is not imported to test for them.
_PANDAS_MISSING = frozenset({"NaTType", "NAType"})


def ndjson_batches(rows: Any, batch_size: int) -> Iterator[bytes]:
    """`rows` as NDJSON, `batch_size` rows per chunk."""
    if batch_size < 1:
        raise Invalid(f"batch_size must be at least 1; got {batch_size}")
    pandas, polars, datasets = (sys.modules.get(m) for m in ("pandas", "polars", "datasets"))
    if pandas is not None and isinstance(rows, pandas.DataFrame):
        return _pandas(rows, batch_size)
    if polars is not None and isinstance(rows, polars.DataFrame):
        return _polars(rows, batch_size)
    if datasets is not None and isinstance(
        rows, datasets.DatasetDict | datasets.IterableDatasetDict
    ):
        splits = ", ".join(rows)
        raise Invalid(
            f"a DatasetDict holds several splits ({splits}); pass one, e.g. data['train']"
        )
    if datasets is not None and isinstance(rows, datasets.Dataset):
        return _dataset(rows, batch_size)
    if isinstance(rows, Mapping | str | bytes) or not isinstance(rows, Iterable):
        raise Invalid(
            "rows must be a list (or any iterable) of dicts, a pandas or polars DataFrame, or "
            f"a datasets.Dataset; got {type(rows).__name__}"
        )
    return _dicts(rows, batch_size)  # an IterableDataset, too, yields dicts


def _pandas(frame: Any, batch_size: int) -> Iterator[bytes]:
    # Through Python dicts rather than DataFrame.to_json, which rounds floats to 15 digits.
    if not frame.columns.is_unique:
        twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise Invalid(f"the DataFrame has columns named twice: {', '.join(twice)}")
    return _numbered(
        frame.iloc[start : start + batch_size].to_dict("records")
        for start in range(0, len(frame), batch_size)
    )


def _polars(frame: Any, batch_size: int) -> Iterator[bytes]:
    for part in frame.iter_slices(batch_size):
        yield _ended(part.write_ndjson().encode())


def _dataset(dataset: Any, batch_size: int) -> Iterator[bytes]:
    def batches() -> Iterator[list[dict[str, Any]]]:
        for columns in dataset.with_format(None).iter(batch_size=batch_size):
            names = list(columns)
            values = zip(*columns.values(), strict=True)
            yield [dict(zip(names, row, strict=True)) for row in values]

    return _numbered(batches())


def _dicts(rows: Iterable[Any], batch_size: int) -> Iterator[bytes]:
    it = iter(rows)
    return _numbered(iter(lambda: list(itertools.islice(it, batch_size)), []))


def _numbered(batches: Iterable[list[Any]]) -> Iterator[bytes]:
    """Each batch of rows as one chunk of NDJSON; rows are numbered from 1 across batches."""
    done = 0
    for batch in batches:
        yield b"".join(_line(row, done + n) for n, row in enumerate(batch, start=1))
        done += len(batch)


def _line(row: Any, number: int) -> bytes:
    if not isinstance(row, Mapping):
        raise Invalid(f"row {number}: expected a dict, found {type(row).__name__}")
    try:
        return orjson.dumps(row, default=_plain, option=_OPTIONS)
    except TypeError:
        raise Invalid(_unsendable(row, number)) from None


def _plain(value: Any) -> Any:
    """What orjson does not write itself: pandas' missing values as null, decimals, dates
    (pandas Timestamps too) as ISO text, numpy values, tuples and sets as lists."""
    if type(value).__name__ in _PANDAS_MISSING:
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar orjson missed
        return value.item()
    raise TypeError


def _unsendable(row: Mapping[Any, Any], number: int) -> str:
    """Which field of the row cannot be written as JSON, and what it holds."""
    for key, value in row.items():
        if not isinstance(key, str):
            return f"row {number}: field names must be strings; found {key!r}"
        try:
            orjson.dumps(value, default=_plain, option=_OPTIONS)
        except TypeError:
            kind = type(value).__name__
            return f"row {number}, field {key!r}: a value of type {kind} cannot be sent as JSON"
    return f"row {number}: cannot be sent as JSON"


def _ended(chunk: bytes) -> bytes:
    return chunk if not chunk or chunk.endswith(b"\n") else chunk + b"\n"
