"""`labelwise gold`: set gold answers, see each annotator's gold accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labelwise.cli.common import (
    DataDirOption,
    console,
    jsonl_rows,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.services import gold, projects

app = typer.Typer(help="Gold answers for qualification tests and honeypots.", no_args_is_help=True)


@app.command("import")
@reports_errors
def import_gold(
    slug: str,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help='JSONL: {"id", "answers", "explanation"} per line.'
        ),
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Set gold answers in SLUG from FILE; all or nothing."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    with jsonl_rows(file) as rows:
        saved = gold.import_gold(db, project.id, projects.spec_of(project), rows, source=file.name)
    console.print(f"{file.name}: {saved} gold answers saved", highlight=False)


@app.command("accuracy")
@reports_errors
def accuracy(slug: str, data_dir: DataDirOption = None) -> None:
    """Each annotator's accuracy on gold items, with a 95% Wilson interval."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    table = Table("annotator", "gold answered", "correct", "accuracy", "95% interval", "test")
    for score in gold.accuracy_by_annotator(db, project.id):
        table.add_row(
            score.annotator,
            str(score.answered),
            str(score.correct),
            f"{score.accuracy:.1%}",
            f"{score.low:.1%} – {score.high:.1%}",
            score.qualification or "",
        )
    console.print(table)
