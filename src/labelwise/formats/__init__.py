"""Import and export formats: one module per format, registered in one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from labelwise.errors import InvalidInput
from labelwise.formats import csvfile, jsonarray, jsonl, parquetfile
from labelwise.formats.rows import ExportRow, ParsedRow, Reader, Writer


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    media_type: str
    position: str  # what a ParsedRow's position counts: "line" or "row"
    read: Reader | None
    write: Writer | None


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "jsonl", (".jsonl", ".ndjson"), "application/x-ndjson", "line", jsonl.read, jsonl.write
        ),
        Format("json", (".json",), "application/json", "line", jsonarray.read, None),
        Format("csv", (".csv",), "text/csv; charset=utf-8", "line", csvfile.read, csvfile.write),
        Format(
            "parquet",
            (".parquet", ".pq"),
            "application/vnd.apache.parquet",
            "row",
            parquetfile.read,
            parquetfile.write,
        ),
    )
}


def get_format(name: str, *, for_export: bool) -> Format:
    fmt = FORMATS.get(name)
    usable = [f.name for f in FORMATS.values() if (f.write if for_export else f.read)]
    if fmt is None or fmt.name not in usable:
        raise InvalidInput(f"format {name!r} is not supported; use one of {', '.join(usable)}")
    return fmt


def format_for_path(path: str | PurePath) -> Format:
    suffix = PurePath(path).suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.extensions:
            return fmt
    known = ", ".join(ext for f in FORMATS.values() for ext in f.extensions)
    raise InvalidInput(f"{PurePath(path).name}: unknown file type {suffix!r}; expected {known}")


__all__ = ["FORMATS", "ExportRow", "Format", "ParsedRow", "format_for_path", "get_format"]
