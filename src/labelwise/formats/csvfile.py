"""CSV with a header row. Every cell imports as a string; export neutralises formulas."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from labelwise.formats import table
from labelwise.formats.rows import ExportRow, ParsedRow

# A spreadsheet runs a cell starting with these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    text = codecs.getreader("utf-8-sig")(stream, errors="strict")
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        yield ParsedRow(1, None, "the file is empty; expected a header row")
        return
    except (csv.Error, UnicodeDecodeError) as error:
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
        except UnicodeDecodeError:
            yield ParsedRow(start, None, "the file is not UTF-8 text")
            return
        line = reader.line_num
        if not values:
            continue
        if len(values) != len(names):
            yield ParsedRow(start, None, f"expected {len(names)} columns, found {len(values)}")
            continue
        yield ParsedRow(start, dict(zip(names, values, strict=True)))


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write(rows: Iterable[ExportRow], fields: list[str]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns(fields))
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in table.cells(row, fields)])
        if count % BATCH == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
