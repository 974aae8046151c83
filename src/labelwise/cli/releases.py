"""`labelwise release`: freeze, list, read, verify and compare dataset releases."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from labelwise.cli.common import (
    DataDirOption,
    console,
    err_console,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.services import projects, releases

app = typer.Typer(
    help="Immutable dataset releases: create, list, card, diff, verify.", no_args_is_help=True
)


@app.command("create")
@reports_errors
def create(
    slug: str,
    name: Annotated[str, typer.Option("--name", help="The release's name, e.g. v1.")],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="How answers of items nobody settled are aggregated: majority, dawid-skene or "
            "weighted.",
        ),
    ] = "majority",
    data_dir: DataDirOption = None,
) -> None:
    """Freeze SLUG's finished items and their final answers as release NAME."""
    db = open_db(load_settings(data_dir))
    project = projects.get(db, slug)
    with console.status(f"freezing {slug} as {name}"):
        release = releases.create(db, project, name, method, actor_id=None)
    console.print(
        f"release {release.name}: {release.items} items, sha256 {release.content_hash}",
        highlight=False,
    )


@app.command("list")
@reports_errors
def listing(slug: str, data_dir: DataDirOption = None) -> None:
    """SLUG's releases, oldest first."""
    db = open_db(load_settings(data_dir))
    found = releases.listing(db, projects.get(db, slug))
    if not found:
        console.print(f"{slug} has no releases yet")
    for release in found:
        console.print(
            f"{release.name}\t{release.created_at:%Y-%m-%d %H:%M}\t{release.method}\t"
            f"{release.items} items\t{release.content_hash[:16]}",
            highlight=False,
        )


@app.command("card")
@reports_errors
def card(slug: str, name: str, data_dir: DataDirOption = None) -> None:
    """Print release NAME's dataset card (markdown)."""
    db = open_db(load_settings(data_dir))
    typer.echo(releases.get(db, projects.get(db, slug), name).card, nl=False)


@app.command("verify")
@reports_errors
def verify(slug: str, name: str, data_dir: DataDirOption = None) -> None:
    """Recompute release NAME's content hash from its stored rows; exit 1 if they changed.
    Rows a recorded erasure took out are reported as such, not as a change."""
    db = open_db(load_settings(data_dir))
    check = releases.verify(db, projects.get(db, slug), name)
    erasures = _erasures(check.erasures)
    if not check.intact:
        since = f" or to what the erasures left ({erasures})" if erasures else ""
        err_console.print(
            f"release {name}: stored rows no longer hash to {check.content_hash}{since}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"release {name} intact: sha256 {check.content_hash}", highlight=False)
    if erasures:
        console.print(erasures, highlight=False, soft_wrap=True)


def _erasures(notes: list[releases.ErasureNote]) -> str:
    """ "2 items erased since this release (item t-1 by ana at ..., ...)"; "" for none."""
    if not notes:
        return ""
    removed = sum(n.rows_removed for n in notes)
    changed = sum(n.rows_changed for n in notes)
    parts = [f"{removed} item{'s' * (removed != 1)} erased"] if removed else []
    if changed:
        parts.append(f"{changed} row{'s' * (changed != 1)} changed by erasures")
    each = ", ".join(
        f"{n.erased} by {n.by or 'the CLI'} at {n.at:%Y-%m-%d %H:%M:%S} UTC" for n in notes
    )
    return f"{' and '.join(parts)} since this release ({each})"


@app.command("diff")
@reports_errors
def diff(
    slug: str,
    old: str,
    new: str,
    limit: Annotated[int, typer.Option("--limit", help="Items listed per kind; 0 for all.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Items added and removed, and answers changed, from release OLD to release NEW."""
    db = open_db(load_settings(data_dir))
    result = releases.diff(db, projects.get(db, slug), old, new, limit=limit)
    if as_json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    console.print(
        f"{old} → {new}: {result.added} added, {result.removed} removed, {result.changed} changed",
        highlight=False,
    )
    for question, count in sorted(result.changed_by_question.items()):
        console.print(f"  {question}: {count} changed", highlight=False)
    for item in result.added_items:
        console.print(f"+ {item}", highlight=False)
    for item in result.removed_items:
        console.print(f"- {item}", highlight=False)
    for change in result.changes:
        for question, values in change["answers"].items():
            before, after = (orjson.dumps(values[k]).decode() for k in ("before", "after"))
            console.print(f"~ {change['item']} {question}: {before} → {after}", highlight=False)
