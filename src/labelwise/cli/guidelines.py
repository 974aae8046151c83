"""`labelwise guidelines`: publish versions, list, show and diff them, link examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markdown import Markdown
from rich.table import Table

from labelwise.cli.common import DataDirOption, console, load_settings, open_db, reports_errors
from labelwise.errors import InvalidInput
from labelwise.services import guidelines, projects

app = typer.Typer(
    help="Versioned guidelines: publish, list, show, diff; examples linked to items.",
    no_args_is_help=True,
)


@app.command("publish")
@reports_errors
def publish(
    slug: str,
    file: Annotated[Path, typer.Argument(help="The guidelines, in markdown.")],
    note: Annotated[str, typer.Option("--note", help="One line for the changelog: what changed.")],
    data_dir: DataDirOption = None,
) -> None:
    """Publish FILE as the next guidelines version of SLUG; a published version never changes."""
    markdown = _read(file)
    guidelines.check_note(note)  # before opening the database: a blank note is a typo
    db = open_db(load_settings(data_dir))
    number = guidelines.publish(db, projects.get(db, slug).id, markdown, note, None)
    console.print(f"{slug}: published guidelines version {number}", highlight=False)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{file}: is a directory; expected a markdown file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read: {exc.strerror}") from None


@app.command("list")
@reports_errors
def list_versions(slug: str, data_dir: DataDirOption = None) -> None:
    """List SLUG's guideline versions, newest first, with their changelog notes."""
    db = open_db(load_settings(data_dir))
    table = Table("version", "published", "by", "note")
    for v in guidelines.versions(db, projects.get(db, slug).id):
        table.add_row(
            str(v.number), v.published_at.strftime("%Y-%m-%d %H:%M"), v.published_by or "", v.note
        )
    console.print(table)


@app.command("show")
@reports_errors
def show(
    slug: str,
    version: Annotated[
        int | None, typer.Option("--version", help="Which version.", show_default="current")
    ] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Print the markdown as it is.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show a version of SLUG's guidelines (the current one by default)."""
    db = open_db(load_settings(data_dir))
    found = guidelines.get(db, projects.get(db, slug).id, version)
    if raw:
        typer.echo(found.body, nl=False)
        return
    console.print(f"[bold]version {found.number}[/]: {found.note}", highlight=False)
    console.print(Markdown(found.body))


@app.command("diff")
@reports_errors
def diff(slug: str, a: int, b: int, data_dir: DataDirOption = None) -> None:
    """What changed in SLUG's guidelines from version A to version B (a unified diff)."""
    db = open_db(load_settings(data_dir))
    typer.echo(guidelines.diff(db, projects.get(db, slug).id, a, b), nl=False)


@app.command("example")
@reports_errors
def example(
    slug: str,
    item: Annotated[str, typer.Option("--item", help="The item's external id.")],
    answer: Annotated[str, typer.Option("--answer", help='The answer, as JSON: {"q": "a"}.')],
    why: Annotated[str, typer.Option("--why", help="Why this answer is right (or wrong).")],
    counter: Annotated[
        bool, typer.Option("--counter", help="A counterexample: the answer is wrong.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Link an example (or, with --counter, a counterexample) to an item of SLUG."""
    answers = _json(answer)
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    kind = "counterexample" if counter else "example"
    example_id = guidelines.add_example(
        db, project.id, projects.spec_of(project), item, answers, why, kind, None
    )
    console.print(f"{slug}: {kind} {example_id} added on item {item}", highlight=False)


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"--answer: not valid JSON ({error})") from None
