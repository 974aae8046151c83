"""CSV with a header row. Every cell imports as a string; export neutralises formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from labelwise.formats import release_table, table
from labelwise.formats.rows import CHUNK_BYTES, ExportRow, ParsedRow, ReleaseLayout, ReleaseRow

# A spreadsheet runs a cell starting with these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    lines = _text_lines(stream)
    try:
        yield from _records(csv.reader(lines, strict=True))
    except _NotUtf8 as error:
        yield ParsedRow(error.line, None, "the file is not UTF-8 text")


class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _text_lines(stream: IO[bytes]) -> Iterator[str]:
    """The file's lines as text, cut at line feeds only and decoded one by one.

    Decoding by line gives the line of a bad byte; a text reader would also cut at U+2028
    and the like, splitting a text cell in two.
    """
    for number, line in enumerate(stream, start=1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8(number) from None


def _records(reader: Any) -> Iterator[ParsedRow]:
    try:
        header = next(reader)
    except StopIteration:
        yield ParsedRow(1, None, "the file is empty; expected a header row")
        return
    except csv.Error as error:
        yield ParsedRow(1, None, f"unreadable header: {error}")
        return
    names = [name.strip() for name in header]
    if len(set(names)) != len(names) or "" in names:
        yield ParsedRow(1, None, "the header has an empty or repeated column name")
        return
    line = reader.line_num
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield ParsedRow(start, None, f"malformed CSV: {error}")
            return
        line = reader.line_num
        if not values:
            continue
        if len(values) != len(names):
            yield ParsedRow(start, None, f"expected {len(names)} columns, found {len(values)}")
            continue
        yield ParsedRow(start, dict(zip(names, values, strict=True)))


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert by a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write(rows: Iterable[ExportRow], fields: list[str]) -> Iterator[bytes]:
    out, writer = _chunk()
    writer.writerow(table.columns(fields))
    for row in rows:
        writer.writerow([neutralise(cell) for cell in table.cells(row, fields)])
        if out.tell() >= CHUNK_BYTES:
            yield out.getvalue().encode()
            out, writer = _chunk()
    yield out.getvalue().encode()


def write_release(rows: Iterable[ReleaseRow], layout: ReleaseLayout) -> Iterator[bytes]:
    """The flat release table (see release_table): text as is, numbers as numbers, lists and
    objects as JSON, empty for null; formulas neutralised."""
    columns = release_table.columns(layout)
    out, writer = _chunk()
    writer.writerow([neutralise(column.name) for column in columns])
    for row in rows:
        writer.writerow([neutralise(_release_cell(column.cell(row))) for column in columns])
        if out.tell() >= CHUNK_BYTES:
            yield out.getvalue().encode()
            out, writer = _chunk()
    yield out.getvalue().encode()


def _release_cell(value: Any) -> Any:
    if value is None or value.__class__ in (str, int, float):
        return value
    return orjson.dumps(value).decode()  # answers: already in canonical order


def _chunk() -> tuple[io.StringIO, Any]:
    """A fresh buffer per chunk: a StringIO that was rewound keeps 4 bytes per character."""
    out = io.StringIO()
    # CRLF, as RFC 4180 has it: the csv module quotes a cell holding any character of the
    # line terminator, so a lone "\r" inside a text is quoted too (with "\n" it would not be).
    return out, csv.writer(out, lineterminator="\r\n")
