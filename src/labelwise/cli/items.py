"""`labelwise items`: change items already imported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli.common import (
    DataDirOption,
    console,
    err_console,
    jsonl_rows,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.services import priorities, projects

app = typer.Typer(help="Items already in a project.", no_args_is_help=True)

# Unknown ids listed one by one; a ranking of another project's items would name them all.
UNKNOWN_SHOWN = 20


@app.command("priority")
@reports_errors
def priority(
    slug: str,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help='JSONL: {"id", "priority"} per line.'),
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Set the priorities of SLUG's items from FILE (higher is served first); all or nothing."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    with jsonl_rows(file) as rows:
        result = priorities.set_priorities(db, project.id, rows, source=file.name)
    for external_id in result.unknown[:UNKNOWN_SHOWN]:
        err_console.print(f"unknown id {external_id!r}", highlight=False, soft_wrap=True)
    if len(result.unknown) > UNKNOWN_SHOWN:
        err_console.print(f"and {len(result.unknown) - UNKNOWN_SHOWN} more unknown ids")
    console.print(
        f"{file.name}: {result.updated} priorities set, {len(result.unknown)} unknown ids",
        highlight=False,
    )
