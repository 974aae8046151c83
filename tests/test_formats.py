"""Each reader on good and bad input, and the CSV export's formula neutralisation."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInput
from labelwise.formats import (
    FORMATS,
    ExportRow,
    ParsedRow,
    csvfile,
    format_for_path,
    get_format,
    jsonarray,
    jsonl,
    parquetfile,
    table,
)

EMPTY_OUTCOME = {"final_answers": None, "escalations": [], "comments": [], "consensus": None}


def read_json_list(data: bytes, chunk: int = 1 << 20) -> list[ParsedRow]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonarray, "CHUNK", chunk)
        return list(jsonarray.read(io.BytesIO(data)))


def errors(rows: list[ParsedRow]) -> list[tuple[int, str]]:
    return [(row.position, row.error) for row in rows if row.error is not None]


# --- JSON Lines -------------------------------------------------------------------------


def test_jsonl_reads_objects_with_their_line_numbers() -> None:
    data = b'{"id": "a", "text": "one"}\n\n   \n{"text": "two"}\r\n{"text": "three"}'
    rows = list(jsonl.read(io.BytesIO(data)))
    assert rows == [
        ParsedRow(1, {"id": "a", "text": "one"}),
        ParsedRow(4, {"text": "two"}),
        ParsedRow(5, {"text": "three"}),
    ]


def test_jsonl_reports_each_bad_line_and_reads_on() -> None:
    data = b'{"text": "ok"}\n{"text": "cut\n{"text": "ok again"}\n[1, 2\n'
    rows = list(jsonl.read(io.BytesIO(data)))
    assert [row.position for row in rows] == [1, 2, 3, 4]
    assert rows[2].value == {"text": "ok again"}
    for position, message in errors(rows):
        assert position in (2, 4)
        assert message.startswith("invalid JSON at column ")


def test_jsonl_accepts_a_byte_order_mark() -> None:
    rows = list(jsonl.read(io.BytesIO('\ufeff{"text": "é"}\n'.encode())))
    assert rows == [ParsedRow(1, {"text": "é"})]


def test_jsonl_refuses_bytes_that_are_not_utf8() -> None:
    rows = list(jsonl.read(io.BytesIO(b'{"text": "ok"}\n{"text": "\xff"}\n')))
    assert errors(rows)[0][0] == 2


# --- JSON list: the streaming scanner ---------------------------------------------------

# Characters that matter to a JSON scanner, or that json.dumps escapes, plus some letters.
NASTY = '"\\[]{},: \n\t\r\x00\x1féü😀\u2028ab'
nasty_text = st.text(alphabet=NASTY, max_size=12)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)  # orjson's integer range
    | st.floats(allow_nan=False, allow_infinity=False)
    | nasty_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(nasty_text, json_values, max_size=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(json_objects, max_size=6),
    chunk=st.integers(min_value=1, max_value=64),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    ensure_ascii=st.booleans(),
)
def test_json_list_reads_exactly_what_json_loads_reads(
    items: list[dict[str, Any]], chunk: int, indent: int | str | None, ensure_ascii: bool
) -> None:
    document = json.dumps(items, indent=indent, ensure_ascii=ensure_ascii).encode()
    rows = read_json_list(document, chunk)
    assert errors(rows) == []
    assert [row.value for row in rows] == json.loads(document)


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(json_objects, min_size=1, max_size=4),
    cut=st.floats(min_value=0, max_value=1, exclude_max=True),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_json_list_cut_short_is_an_error(
    items: list[dict[str, Any]], cut: float, chunk: int
) -> None:
    document = json.dumps(items, indent=1).encode()
    rows = read_json_list(document[: int(len(document) * cut)], chunk)
    assert errors(rows), "a truncated list must not read as complete"


def test_json_list_line_numbers_point_at_each_element() -> None:
    document = b'\n[\n  {"text": "one"},\n\n  {"text":\n "two"},  {"text": "three"}\n]\n'
    rows = read_json_list(document, chunk=3)
    assert [(row.position, row.value["text"]) for row in rows] == [
        (3, "one"),
        (5, "two"),
        (6, "three"),
    ]


@pytest.mark.parametrize(
    ("document", "position", "message"),
    [
        (b"", 1, "the file is empty; expected a JSON list of objects"),
        (b" \n ", 1, "the file is empty; expected a JSON list of objects"),
        (b'{"text": "a"}', 1, "expected a JSON list of objects"),
        (b'\n\n"a list?"', 3, "expected a JSON list of objects"),
        (b'[{"text": "a"},\n {"text": "b"}', 2, "the list is not closed: the file ends too early"),
        (b'[{"text": "a"},\n {"text": "b', 2, "the list is not closed: the file ends too early"),
        (b'[{"text": "a"},\n]', 1, "a comma after the last element of the list"),
        (b'[{"text": "a"}]\n\nnonsense', 3, "unexpected content after the end of the list"),
        (b'[{"text": "a"}][{"text": "b"}]', 1, "unexpected content after the end of the list"),
    ],
)
def test_json_list_structure_errors(document: bytes, position: int, message: str) -> None:
    for chunk in (1, 4, 1 << 20):
        assert errors(read_json_list(document, chunk)) == [(position, message)]


def test_json_list_bad_elements_are_reported_one_by_one() -> None:
    document = b'[{"text": "a"},\n {"text": nope},\n ,\n {"text": "d"} \\ ,\n {"text": "e"}]'
    rows = read_json_list(document, chunk=5)
    assert [row.value for row in rows if row.error is None] == [{"text": "a"}, {"text": "e"}]
    assert [position for position, _ in errors(rows)] == [2, 3, 4]
    assert errors(rows)[1][1] == "empty element in the list"
    assert errors(rows)[0][1].startswith("invalid JSON")


def test_json_list_accepts_a_byte_order_mark_and_an_empty_list() -> None:
    assert read_json_list('\ufeff[{"text": "é"}]'.encode(), chunk=1) == [
        ParsedRow(1, {"text": "é"})
    ]
    assert read_json_list(b" [ ] \n") == []


# --- CSV --------------------------------------------------------------------------------


def read_csv(text: str | bytes) -> list[ParsedRow]:
    data = text.encode() if isinstance(text, str) else text
    return list(csvfile.read(io.BytesIO(data)))


def test_csv_reads_rows_as_strings_with_line_numbers() -> None:
    text = '\ufeffid, text ,channel\r\n1,"two\r\nlines, with ""quotes""",email\r\n\r\n2,plain,\r\n'
    assert read_csv(text) == [
        ParsedRow(2, {"id": "1", "text": 'two\r\nlines, with "quotes"', "channel": "email"}),
        ParsedRow(5, {"id": "2", "text": "plain", "channel": ""}),
    ]


def test_csv_keeps_unicode_line_separators_inside_a_cell() -> None:
    rows = read_csv("id,text\n1,before\u2028after\u0085end\n2,next\n")
    assert rows == [
        ParsedRow(2, {"id": "1", "text": "before\u2028after\u0085end"}),
        ParsedRow(3, {"id": "2", "text": "next"}),
    ]


def test_csv_wrong_column_count_is_reported_by_line() -> None:
    rows = read_csv('id,text\n1,"a\nb"\n2\n3,c,extra\n4,d\n')
    assert errors(rows) == [(4, "expected 2 columns, found 1"), (5, "expected 2 columns, found 3")]
    assert [row.value["id"] for row in rows if row.error is None] == ["1", "4"]


@pytest.mark.parametrize(
    ("data", "position", "message"),
    [
        (b"", 1, "the file is empty; expected a header row"),
        (b"id,text,id\n1,a,b\n", 1, "the header has an empty or repeated column name"),
        (b"id,,text\n1,a,b\n", 1, "the header has an empty or repeated column name"),
        (b"id,text\n1,fine\n2,caf\xe9\n", 3, "the file is not UTF-8 text"),
        (b'id,text\n1,"never closed\n2,x\n', 2, "malformed CSV: unexpected end of data"),
    ],
)
def test_csv_errors(data: bytes, position: int, message: str) -> None:
    assert errors(read_csv(data)) == [(position, message)]


def test_csv_reader_leaves_the_stream_open() -> None:
    stream = io.BytesIO(b"text\nhello\n")
    assert len(list(csvfile.read(stream))) == 1
    assert not stream.closed


def export_row(**data: Any) -> ExportRow:
    external_id = data.pop("id", None)
    return ExportRow(1, external_id, "new", json.dumps(data), [], EMPTY_OUTCOME)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_export_neutralises_formulas(start: str) -> None:
    payload = start + 'HYPERLINK("http://evil")'
    row = export_row(id=start + "1", text=payload, channel=start + "x", extra=payload)
    written = b"".join(csvfile.write([row], ["text", "channel"])).decode()
    header, values = list(csv.reader(io.StringIO(written, newline="")))
    cells = dict(zip(header, values, strict=True))
    assert cells["text"] == "'" + payload
    assert cells["channel"] == "'" + start + "x"
    assert cells["external_id"] == "'" + start + "1"
    assert json.loads(cells["other_data"]) == {"extra": payload}  # JSON starts with "{"


def test_csv_export_leaves_ordinary_cells_alone() -> None:
    row = export_row(id="t-1", text="1+1=2, said 'she'", channel="e-mail")
    written = b"".join(csvfile.write([row], ["text", "channel"])).decode()
    header, values = list(csv.reader(io.StringIO(written, newline="")))
    assert header == [
        "id",
        "external_id",
        "status",
        "text",
        "channel",
        "other_data",
        "annotations",
        "final_answers",
        "discussion",
        "consensus",
    ]
    assert values == ["1", "t-1", "new", "1+1=2, said 'she'", "e-mail", "", "[]", "", "", ""]


# --- Parquet ----------------------------------------------------------------------------


def parquet_bytes(table: pa.Table) -> io.BytesIO:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    return buffer


def test_parquet_reads_rows_as_json_ready_values() -> None:
    table = pa.table(
        {
            "id": [1, 2],
            "text": ["one", None],
            "score": [0.5, 1.5],
            "flag": [True, False],
            "at": [dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 6, 1)],
            "tags": [["a", "b"], []],
            "meta": [{"k": 1}, {"k": 2}],
        }
    )
    rows = list(parquetfile.read(parquet_bytes(table)))
    assert rows[0] == ParsedRow(
        1,
        {
            "id": 1,
            "text": "one",
            "score": 0.5,
            "flag": True,
            "at": "2024-01-02T03:04:05",
            "tags": ["a", "b"],
            "meta": {"k": 1},
        },
    )
    assert rows[1].position == 2 and rows[1].value["text"] is None


def test_parquet_binary_values_are_refused_by_row() -> None:
    table = pa.table({"text": ["a", "b"], "blob": [None, b"\x00"]})
    rows = list(parquetfile.read(parquet_bytes(table)))
    assert rows[0].error is None
    assert errors(rows) == [(2, "column 'blob': binary values are not supported")]


def test_parquet_reader_refuses_other_files() -> None:
    rows = list(parquetfile.read(io.BytesIO(b'{"text": "not parquet"}\n')))
    assert len(rows) == 1 and rows[0].position == 1
    assert rows[0].error is not None and "not a readable Parquet file" in rows[0].error


@pytest.mark.parametrize(
    "items",
    [
        # Only the spec's fields, as text or null: Arrow's JSON reader splits them.
        [{"text": 'q"uote\\ \u2028 é 😀 \x00', "channel": "c"}, {"text": "b"}, {"channel": None}],
        # Anything else: split item by item in Python.
        [{"text": "a", "channel": 5}, {"text": "b", "extra": [1, {"k": None}]}, {"channel": True}],
    ],
)
def test_parquet_export_cells_match_the_table_cells(items: list[dict[str, Any]]) -> None:
    rows = [export_row(id=f"e{n}", **item) for n, item in enumerate(items)]
    written = b"".join(parquetfile.write(rows, ["text", "channel"]))
    read = pq.ParquetFile(io.BytesIO(written)).read().to_pylist()
    assert [list(record.values()) for record in read] == [
        table.cells(row, ["text", "channel"]) for row in rows
    ]


def test_parquet_reads_decimals_dates_and_nested_values() -> None:
    nested = pa.struct([("when", pa.date32()), ("tags", pa.list_(pa.string()))])
    data = pa.table(
        {
            "price": pa.array([decimal.Decimal("1.50")], pa.decimal128(5, 2)),
            "day": pa.array([dt.date(2024, 2, 29)]),
            "meta": pa.array([{"when": dt.date(2024, 3, 1), "tags": ["x"]}], nested),
        }
    )
    rows = list(parquetfile.read(parquet_bytes(data)))
    assert rows == [
        ParsedRow(
            1, {"price": 1.5, "day": "2024-02-29", "meta": {"when": "2024-03-01", "tags": ["x"]}}
        )
    ]


# --- The format table -------------------------------------------------------------------


def test_formats_by_name_and_by_file_name() -> None:
    assert format_for_path("items.NDJSON") is FORMATS["jsonl"]
    assert format_for_path("dir/items.pq").name == "parquet"
    with pytest.raises(InvalidInput, match=r"items\.xlsx: unknown file type '\.xlsx'"):
        format_for_path("items.xlsx")
    assert get_format("json", for_export=False).read is jsonarray.read
    with pytest.raises(InvalidInput, match="not supported; use one of jsonl, csv, parquet"):
        get_format("json", for_export=True)
