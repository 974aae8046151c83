"""`labelwise gaps SLUG`: the guideline-gaps report, the same as `GET .../gaps`."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import orjson
import typer
from rich.table import Table

from labelwise.cli.common import DataDirOption, console, load_settings, open_db, reports_errors
from labelwise.services import projects
from labelwise.services.reporting import guideline_gaps


@reports_errors
def gaps_command(
    slug: Annotated[str, typer.Argument(help="The project.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many label pairs.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """The label pairs annotators of project SLUG confuse most, with examples, the guideline
    section that names them (or "not covered") and agreement on them per guideline version."""
    db = open_db(load_settings(data_dir))
    report = guideline_gaps.gaps(db, projects.get(db, slug), limit)
    if as_json:
        typer.echo(orjson.dumps(dataclasses.asdict(report), option=orjson.OPT_INDENT_2).decode())
        return
    title = f"Guideline gaps (sections of guidelines v{report.guideline_version or '-'})"
    table = Table(title=title)
    for column in ("question", "labels", "disagree", "adjudicated", "examples", "section"):
        table.add_column(column)
    table.add_column("agreement by guideline version")
    for gap in report.gaps:
        by_version = ", ".join(
            f"v{row.guideline_version or '-'} {row.agreement:.0%} of {row.answer_pairs}"
            for row in gap.by_version
        )
        table.add_row(
            gap.question,
            " / ".join(gap.labels),
            str(gap.disagreements),
            str(gap.adjudicated),
            ", ".join(gap.examples),
            gap.guideline_section,
            by_version,
        )
    console.print(table if report.gaps else "No confused labels yet.")
