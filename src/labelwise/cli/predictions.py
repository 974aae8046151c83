"""`labelwise predictions`: model predictions, shown to labelers as pre-labels."""

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
from labelwise.services import predictions, projects

app = typer.Typer(help="Model predictions shown as pre-labels.", no_args_is_help=True)


@app.command("import")
@reports_errors
def import_predictions(
    slug: str,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help='JSONL: {"id", "model": "name@version", "answers", "scores"} per line.',
        ),
    ],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows and list the bad ones.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Import predictions into SLUG from FILE; a re-import replaces each (item, model)'s
    prediction. All or nothing, unless --skip-invalid."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    with jsonl_rows(file) as rows:
        summary = predictions.import_predictions(
            db,
            project.id,
            projects.spec_of(project),
            rows,
            source=file.name,
            skip_invalid=skip_invalid,
        )
    for problem in summary.skipped:
        err_console.print(
            f"skipped {file.name}, line {problem['line']}: {problem['error']}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"{file.name}: {summary.saved} predictions saved ({summary.replaced} replaced), "
        f"{len(summary.skipped)} skipped",
        highlight=False,
    )
