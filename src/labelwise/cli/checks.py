"""`labelwise checks run`: the automated checks, from the terminal."""

from __future__ import annotations

import typer
from rich.table import Table

from labelwise.cli.common import DataDirOption, console, load_settings, open_db, reports_errors
from labelwise.services import checks, projects

app = typer.Typer(help="Automated checks over submitted work.", no_args_is_help=True)
SHOWN = 50


@app.command("run")
@reports_errors
def run(slug: str, data_dir: DataDirOption = None) -> None:
    """Run the checks SLUG's spec switches on and list what they found."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    result = checks.run(db, project)
    console.print(f"checks run: {', '.join(result.checks) or 'none switched on'}")
    found = checks.findings(db, project.id, limit=SHOWN)
    table = Table("check", "item", "annotator", "finding")
    for f in found:
        table.add_row(f.check, f.external_id or "", f.username or "", f.message)
    console.print(table)
    total = sum(result.counts.values())
    more = f" (first {SHOWN} shown)" if total > SHOWN else ""
    console.print(f"{total} findings{more}; {result.sent_to_review} items sent back to review")
