"""Import a folder of images: one item per image file, its picture in the content store.

Each image (formats.imagefolder: recursive, sorted, by extension and then by its bytes)
becomes an item whose external id is its path relative to the folder and whose image field
holds the stored file's path (services.file_store), so a re-import of the same folder adds
nothing. A metadata file (any import format: CSV, JSONL, JSON, Parquet) may add data to the
items, one row per image named by its `file` column; it is read whole before the walk, so it
is held in memory, where the images themselves are read one at a time.

The rows then go through `imports.import_items` like any other: one transaction, all or
nothing, or with `skip_invalid` the bad files reported by name. Images are stored as they are
read, before that transaction ends: a failed import can leave files in the store, which a
later import of them finds there and reuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelwise.db.engine import Database
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow, format_for_path
from labelwise.formats.imagefolder import HEAD_BYTES, KINDS, FolderEntry, image_suffix, walk
from labelwise.services import imports
from labelwise.services.file_store import ContentStore
from labelwise.spec import ProjectSpec

FILE_KEY = "file"
# The metadata rows by the image they name: (position, "file, line n", data).
Metadata = dict[str, tuple[int, str, dict[str, Any]]]


@dataclass
class FolderCounts:
    images: int = 0
    other_files: int = 0  # not images by their extension: left out


@dataclass(frozen=True)
class FolderSummary:
    summary: imports.ImportSummary
    images: int
    other_files: int


def image_field(spec: ProjectSpec, name: str | None) -> str:
    """The image field a folder import fills: `name`, or the spec's only image field."""
    fields = [f.name for f in spec.fields if f.type == "image"]
    if name is not None:
        if name not in fields:
            found = f"its image fields: {', '.join(fields)}" if fields else "it has none"
            raise InvalidInput(f"field {name!r}: not an image field of the spec ({found})")
        return name
    if not fields:
        raise InvalidInput(
            "the project's spec has no image field: add one (type: image) to import images"
        )
    if len(fields) > 1:
        raise InvalidInput(
            f"the spec has several image fields ({', '.join(fields)}): name the one to fill"
        )
    return fields[0]


def import_folder(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    folder: Path,
    *,
    store: ContentStore,
    field_name: str,
    max_bytes: int,
    metadata: Path | None = None,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    pii_key: Callable[[], bytes] | None = None,
) -> FolderSummary:
    """Import the images under `folder` (progress: called with the images seen so far;
    `pii_key`: as for `imports.import_items`, for the metadata's text)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: not a folder")
    extra = _metadata(metadata, field_name) if metadata is not None else {}
    counts = FolderCounts()
    rows = _rows(folder, metadata, store, field_name, max_bytes, extra, counts, progress)
    summary = imports.import_items(
        db,
        project_id,
        spec,
        rows,
        source=folder.name,
        position_name="file",
        skip_invalid=skip_invalid,
        pii_key=pii_key,
    )
    return FolderSummary(summary, counts.images, counts.other_files)


def _rows(
    folder: Path,
    metadata: Path | None,
    store: ContentStore,
    field_name: str,
    max_bytes: int,
    extra: Metadata,
    counts: FolderCounts,
    progress: Callable[[int], None] | None,
) -> Iterator[ParsedRow]:
    """One row per image; the metadata rows are taken from `extra` as their image comes, so
    what is left at the end names no image."""
    try:
        for entry in walk(folder, exclude=metadata):
            if not entry.is_image:
                counts.other_files += 1
                continue
            counts.images += 1
            yield _row(entry, store, field_name, max_bytes, extra)
            if progress:
                progress(counts.images)
    except OSError as error:
        raise InvalidInput(f"{folder}: cannot read: {error.strerror}") from None
    if extra:
        assert metadata is not None
        _, where, name = min(
            (position, where, name) for name, (position, where, _) in extra.items()
        )
        raise InvalidInput(
            f"{where}: no image {name!r} in {folder.name} ({len(extra)} rows name no image); "
            "nothing was imported"
        )


def _row(
    entry: FolderEntry,
    store: ContentStore,
    field_name: str,
    max_bytes: int,
    extra: Metadata,
) -> ParsedRow:
    name = entry.relative
    if not _is_utf8(name):
        return ParsedRow(_printable(name), None, "the file name is not UTF-8")
    try:
        with entry.path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return ParsedRow(name, None, f"cannot read: {error.strerror}")
    if len(data) > max_bytes:
        return ParsedRow(
            name, None, f"larger than the limit of {max_bytes} bytes (LABELWISE_MAX_IMAGE_BYTES)"
        )
    suffix = image_suffix(data[:HEAD_BYTES])
    if suffix is None:
        return ParsedRow(name, None, f"not a {KINDS} image, whatever its name says")
    _, _, added = extra.pop(name, (0, "", {}))
    row = {**added, "id": name, field_name: store.put(data, suffix)}
    return ParsedRow(name, row)


def _metadata(path: Path, field_name: str) -> Metadata:
    """The metadata file's rows by the image they name, each with its line."""
    fmt = format_for_path(path)
    assert fmt.read is not None
    found: Metadata = {}
    try:
        with path.open("rb") as handle:
            for position, value, error in fmt.read(handle):
                where = f"{path.name}, {fmt.position} {position}"
                if error is not None:
                    raise InvalidInput(f"{where}: {error}; nothing was imported")
                name, data = _metadata_row(value, field_name, where)
                if name in found:
                    raise InvalidInput(
                        f"{where}: {name!r} is named again (first on {fmt.position} "
                        f"{found[name][0]}); nothing was imported"
                    )
                found[name] = (int(position), where, data)
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read: {error.strerror}") from None
    return found


def _metadata_row(value: Any, field_name: str, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{where}: expected an object with a {FILE_KEY!r} key; nothing was imported"
        )
    data = dict(value)
    name = data.pop(FILE_KEY, None)
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            f"{where}: {FILE_KEY!r} must name an image by its path in the folder, e.g. "
            "'cats/1.png'; nothing was imported"
        )
    for taken, why in (("id", "the external id is the image's path"), (field_name, "the image")):
        if taken in data:
            raise InvalidInput(
                f"{where}: {taken!r} cannot be set here ({why}); nothing was imported"
            )
    return name.strip().removeprefix("./"), data


def _is_utf8(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:  # undecodable bytes in the name, kept as surrogates
        return False
    return True


def _printable(name: str) -> str:
    return name.encode(errors="surrogateescape").decode(errors="backslashreplace")
