"""`labelwise import` and `labelwise export`, with progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from labelwise.cli.common import (
    DataDirOption,
    console,
    err_console,
    fail,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.formats import (
    format_for_path,
    get_format,
    get_release_format,
    release_format_for_path,
)
from labelwise.formats.imagefolder import IMAGE_SUFFIXES
from labelwise.policies import EVERYTHING
from labelwise.services import exports, image_import, imports, projects, releases
from labelwise.services.file_store import ContentStore, project_folder
from labelwise.settings import Settings
from labelwise.spec import ProjectSpec

IMAGE_NAMES = sorted(suffix.lstrip(".") for suffix in IMAGE_SUFFIXES)

FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="jsonl, json, csv or parquet (default: by extension)."),
]


_PII_DONE = {"mask": "masked", "pseudonymise": "pseudonymised", "flag": "flagged"}


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


@reports_errors
def import_command(
    slug: str,
    path: Annotated[
        Path, typer.Argument(exists=True, help="Items to import: a file, or a folder of images.")
    ],
    format: FormatOption = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows and list the bad ones.")
    ] = False,
    field: Annotated[
        str | None,
        typer.Option(
            "--field", help="A folder: the image field to fill (if the spec has several)."
        ),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            "--metadata",
            exists=True,
            dir_okay=False,
            help="A folder: data for its images, one row per image named by its 'file' column.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Import items into SLUG from PATH: a file (JSONL, JSON, CSV, Parquet), or a folder
    of images, one item per image. All or nothing, unless --skip-invalid."""
    if path.is_dir():
        if format:
            raise fail("--format: a folder is read as images; --format is for files", 2)
        _import_folder(slug, path, field, metadata, skip_invalid, load_settings(data_dir))
        return
    if field or metadata:
        raise fail(f"--{'field' if field else 'metadata'}: only for a folder of images", 2)
    fmt = get_format(format, for_export=False) if format else format_for_path(path)
    assert fmt.read is not None
    settings = load_settings(data_dir)
    db = open_db(settings)
    project = projects.get(db, slug)
    spec = projects.spec_of(project)
    with path.open("rb") as handle, _progress() as progress:
        task = progress.add_task(f"importing {path.name}", total=path.stat().st_size)
        summary = imports.import_items(
            db,
            project.id,
            spec,
            fmt.read(handle),
            source=path.name,
            position_name=fmt.position,
            skip_invalid=skip_invalid,
            progress=lambda _rows: progress.update(task, completed=handle.tell()),
            pii_key=settings.load_pii_key,
        )
    _report(summary, spec, f"{path.name}, {fmt.position} ", "")


def _import_folder(
    slug: str,
    folder: Path,
    field: str | None,
    metadata: Path | None,
    skip_invalid: bool,
    settings: Settings,
) -> None:
    db = open_db(settings)
    project = projects.get(db, slug)
    spec = projects.spec_of(project)
    field_name = image_import.image_field(spec, field)
    with console.status(f"importing images from {folder.name}") as status:
        result = image_import.import_folder(
            db,
            project.id,
            spec,
            folder,
            store=ContentStore(project_folder(settings.data_dir, project.slug)),
            field_name=field_name,
            max_bytes=settings.max_image_bytes,
            metadata=metadata,
            skip_invalid=skip_invalid,
            progress=lambda seen: status.update(f"importing images from {folder.name}: {seen}"),
            pii_key=settings.load_pii_key,
        )
    _report(
        result.summary,
        spec,
        f"{folder.name}/",
        f", {result.other_files} other files left out (not {'/'.join(IMAGE_NAMES)})",
    )


def _report(summary: imports.ImportSummary, spec: ProjectSpec, where: str, tail: str) -> None:
    for problem in summary.skipped:
        err_console.print(
            f"skipped {where}{problem.position}: {problem.message}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"{summary.source}: {summary.created} new, {summary.existing} already present, "
        f"{len(summary.skipped)} skipped{tail}",
        highlight=False,
        soft_wrap=True,
    )
    for field, counts in summary.pii.items():
        found = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
        done = _PII_DONE[spec.privacy.pii.mode] if spec.privacy.pii else "found"
        console.print(f"PII in {field} ({done}): {found}", highlight=False)
    if summary.priority_unchanged:
        err_console.print(
            f"note: {summary.priority_unchanged} rows give another priority to an item already "
            "there; import leaves existing items as they are: set priorities with "
            "`labelwise items priority`",
            highlight=False,
            soft_wrap=True,
        )


@reports_errors
def export_command(
    slug: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="File (or directory) to write.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, csv or parquet (default: by extension); for a release also hf, "
            "spacy or conll.",
        ),
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Export this release instead of live data.")
    ] = None,
    consensus: Annotated[
        str | None,
        typer.Option(
            "--consensus",
            help="Add each item's consensus answers: majority, dawid-skene or weighted.",
        ),
    ] = None,
    soft: Annotated[
        bool,
        typer.Option("--soft", help="Every label's probability (with --consensus or --release)."),
    ] = False,
    annotators: Annotated[
        bool, typer.Option("--annotators", help="With --release: each annotator's answers too.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Export SLUG's items with all their annotations to OUTPUT, or a frozen release."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    if release is not None:
        if consensus:
            raise fail("--consensus: a release already holds its final answers", 2)
        fmt = get_release_format(format) if format else release_format_for_path(output)
        with console.status(f"exporting {slug} release {release}"):
            releases.export_to(
                db, project, release, fmt, output, view=EVERYTHING, soft=soft, annotators=annotators
            )
        items = releases.get(db, project, release).items
        console.print(f"exported release {release} ({items} items) to {output}", highlight=False)
        return
    if annotators:
        raise fail("--annotators: live exports always carry every annotation", 2)
    fmt = get_format(format, for_export=True) if format else format_for_path(output)
    if fmt.write is None:
        raise fail(f"{output.name}: cannot export as {fmt.name}", 2)
    fields = [f.name for f in projects.spec_of(project).fields]
    total = projects.item_count(db, project)
    if not output.parent.is_dir():
        raise fail(f"{output}: the directory {output.parent} does not exist", 2)
    partial = output.with_name(output.name + ".partial")
    try:
        # The CLI runs on the server with the data dir's rights: it sees every field.
        chunks = exports.export(
            db, project, fields, fmt, view=EVERYTHING, consensus_method=consensus, soft=soft
        )
        _write_export(chunks, partial, slug)
        partial.replace(output)  # a failed export never leaves a half file under the real name
    except OSError as error:  # no permission, no space, a directory in the way...
        partial.unlink(missing_ok=True)
        raise fail(f"{output}: cannot write: {error.strerror}", 2) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    console.print(f"exported {total} items to {output}", highlight=False)


def _write_export(chunks: Iterator[bytes], path: Path, slug: str) -> None:
    with path.open("wb") as handle, _progress() as progress:
        task = progress.add_task(f"exporting {slug}", total=None)
        for chunk in chunks:
            handle.write(chunk)
            progress.update(task, completed=handle.tell())
