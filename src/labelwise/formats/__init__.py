"""Import and export formats: one module per format, registered in one table."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from labelwise.errors import InvalidInput
from labelwise.formats import conll, csvfile, hfdataset, jsonarray, jsonl, parquetfile, spacydocbin
from labelwise.formats.release_table import is_spans, span_questions
from labelwise.formats.rows import (
    ExportRow,
    ParsedRow,
    Reader,
    ReleaseLayout,
    ReleaseRow,
    Writer,
)

# A release format writes a file as chunks of bytes, or a directory of files.
ReleaseWriter = Callable[[Iterable[ReleaseRow], ReleaseLayout], Iterator[bytes]]
DirectoryWriter = Callable[[Iterable[ReleaseRow], ReleaseLayout, Path], None]


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    media_type: str
    position: str  # what a ParsedRow's position counts: "line" or "row"
    read: Reader | None
    write: Writer | None
    release: ReleaseWriter | None = None  # writes a dataset release as one file
    release_directory: DirectoryWriter | None = None  # writes a release as a directory
    spans_only: bool = False  # for projects with a spans question only

    @property
    def writes_release(self) -> bool:
        return self.release is not None or self.release_directory is not None


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "jsonl",
            (".jsonl", ".ndjson"),
            "application/x-ndjson",
            "line",
            jsonl.read,
            jsonl.write,
            release=jsonl.write_release,
        ),
        Format("json", (".json",), "application/json", "line", jsonarray.read, None),
        Format(
            "csv",
            (".csv",),
            "text/csv; charset=utf-8",
            "line",
            csvfile.read,
            csvfile.write,
            release=csvfile.write_release,
        ),
        Format(
            "parquet",
            (".parquet", ".pq"),
            "application/vnd.apache.parquet",
            "row",
            parquetfile.read,
            parquetfile.write,
            release=parquetfile.write_release,
        ),
        # Release only: a Hugging Face dataset directory (datasets.load_from_disk), and the
        # span formats.
        Format(
            "hf",
            (),
            "inode/directory",
            "row",
            None,
            None,
            release_directory=hfdataset.write_release,
        ),
        Format(
            "spacy",
            (".spacy",),
            "application/octet-stream",
            "row",
            None,
            None,
            release=spacydocbin.write_release,
            spans_only=True,
        ),
        Format(
            "conll",
            (".conll",),
            "text/plain; charset=utf-8",
            "line",
            None,
            None,
            release=conll.write_release,
            spans_only=True,
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
    """The import or live-export format a file name's extension names."""
    suffix = PurePath(path).suffix.lower()
    live = [f for f in FORMATS.values() if f.read or f.write]
    for fmt in live:
        if suffix in fmt.extensions:
            return fmt
    known = ", ".join(ext for f in live for ext in f.extensions)
    raise InvalidInput(f"{PurePath(path).name}: unknown file type {suffix!r}; expected {known}")


def release_format_for_path(path: str | PurePath) -> Format:
    """The release format a file name's extension names (a directory needs --format)."""
    suffix = PurePath(path).suffix.lower()
    for fmt in FORMATS.values():
        if fmt.writes_release and suffix in fmt.extensions:
            return fmt
    raise InvalidInput(
        f"{PurePath(path).name}: say which format with --format "
        f"(one of {', '.join(release_formats())})"
    )


def release_formats(layout: ReleaseLayout | None = None) -> list[str]:
    """The names of the formats a release writes; with a layout, those that fit it."""
    spans = layout is None or any(is_spans(q) for q in layout.questions)
    return [f.name for f in FORMATS.values() if f.writes_release and (spans or not f.spans_only)]


def get_release_format(name: str, layout: ReleaseLayout | None = None) -> Format:
    """The release format called `name`; InvalidInput listing the usable ones otherwise,
    or, given the layout, when the format needs a spans question the project lacks."""
    fmt = FORMATS.get(name)
    if fmt is None or not fmt.writes_release:
        raise InvalidInput(
            f"format {name!r} cannot export a release; use one of {', '.join(release_formats())}"
        )
    if layout is not None and fmt.spans_only:
        span_questions(layout, fmt.name)
    return fmt


def write_release(
    fmt: Format, rows: Iterable[ReleaseRow], layout: ReleaseLayout, out: str | os.PathLike[str]
) -> Path:
    """Write a release in `fmt` to the file or directory `out` (all or nothing: it is built
    beside `out` and moved there when complete) and return its path. A file is replaced; a
    directory must not exist yet, or be empty."""
    fmt = get_release_format(fmt.name, layout)
    target = Path(out)
    if not target.parent.is_dir():
        raise InvalidInput(f"{target}: the directory {target.parent} does not exist")
    # Built under a name of its own (the process id keeps two exports apart) with the
    # usual permissions, which a tempfile name would not give.
    work = target.with_name(f".{target.name}.{os.getpid()}.partial")
    _remove(work)  # left by a crashed export
    try:
        if fmt.release_directory is not None:
            if target.exists() and (not target.is_dir() or any(target.iterdir())):
                raise InvalidInput(f"{target}: exists and is not an empty directory")
            work.mkdir()
            fmt.release_directory(rows, layout, work)
            if target.exists():
                target.rmdir()
        else:
            assert fmt.release is not None
            with work.open("xb") as stream:
                for chunk in fmt.release(rows, layout):
                    stream.write(chunk)
        os.replace(work, target)
    except OSError as error:  # no permission, no space, a directory in the way...
        _remove(work)
        raise InvalidInput(f"{target}: cannot write: {error.strerror}") from None
    except BaseException:
        _remove(work)
        raise
    return target


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


__all__ = [
    "FORMATS",
    "DirectoryWriter",
    "ExportRow",
    "Format",
    "ParsedRow",
    "ReleaseLayout",
    "ReleaseRow",
    "ReleaseWriter",
    "format_for_path",
    "get_format",
    "get_release_format",
    "release_format_for_path",
    "release_formats",
    "write_release",
]
