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
from labelwise.services import model_backend, predictions, projects

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


@app.command("fetch")
@reports_errors
def fetch_predictions(
    slug: str,
    url: Annotated[str, typer.Argument(help="The model backend; labelwise posts to URL/predict.")],
    batch_size: Annotated[int, typer.Option("--batch", min=1, help="Items per request.")] = (
        model_backend.DEFAULT_BATCH
    ),
    all_items: Annotated[
        bool, typer.Option("--all", help="Also items someone has started or finished.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Ask the model backend at URL to pre-label SLUG's items nobody has started (see the model
    backend protocol in the README); every good prediction is stored, every item it could not
    use is named."""
    settings = load_settings(data_dir)
    db = open_db(settings)
    result = model_backend.prelabel(
        db,
        projects.get(db, slug),
        url,
        batch_size=batch_size,
        limits=settings.model_limits,
        open_only=not all_items,
    )
    for failed in result.failed_batches:
        err_console.print(f"failed: {failed}", highlight=False, soft_wrap=True)
    for problem in result.imported.skipped:
        err_console.print(f"skipped: {problem['error']}", highlight=False, soft_wrap=True)
    saved, skipped = result.imported, len(result.imported.skipped)
    console.print(
        f"{url}: {saved.saved} predictions saved ({saved.replaced} replaced), {skipped} items "
        f"skipped, {len(result.failed_batches)} batches failed",
        highlight=False,
    )
