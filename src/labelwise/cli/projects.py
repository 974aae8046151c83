"""`labelwise projects`: apply specs, list projects, manage members."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labelwise.cli.common import (
    DataDirOption,
    console,
    fail,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.policies import Actor, Role
from labelwise.services import projects as service
from labelwise.spec import load_guidelines_file, load_spec_file

app = typer.Typer(
    help="Create, update and list projects; manage their members.", no_args_is_help=True
)

# The CLI is run by whoever holds the server's data directory: it acts as a server admin.
CLI_ACTOR = Actor(user_id=0, username="cli", is_admin=True)


@app.command("apply")
@reports_errors
def apply(
    spec_file: Annotated[Path, typer.Argument(help="Project spec, YAML or JSON.")],
    data_dir: DataDirOption = None,
) -> None:
    """Create or update a project from SPEC_FILE; applying the same file twice changes nothing."""
    spec = load_spec_file(spec_file)
    text = load_guidelines_file(spec_file, spec)
    result = service.apply_spec(open_db(load_settings(data_dir)), spec, guidelines_text=text)
    verb = "created" if result.created else "updated" if result.changed else "unchanged:"
    console.print(f"{verb} project [bold]{spec.slug}[/] ({spec.name})")


@app.command("list")
@reports_errors
def list_projects(data_dir: DataDirOption = None) -> None:
    """List every project with its item counts."""
    table = Table("slug", "name", "items", "by status")
    for s in service.summaries(open_db(load_settings(data_dir)), CLI_ACTOR):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(s.by_status.items()))
        table.add_row(s.project.slug, s.project.name, str(s.items), counts)
    console.print(table)


@app.command("members")
@reports_errors
def members(slug: str, data_dir: DataDirOption = None) -> None:
    """List SLUG's members and their roles."""
    db = open_db(load_settings(data_dir))
    table = Table("username", "role")
    for member in service.members(db, service.get(db, slug)):
        table.add_row(member.username, member.role.value)
    console.print(table)


@app.command("member")
@reports_errors
def member(
    slug: str,
    username: str,
    role: Annotated[Role | None, typer.Option("--role", help="The role to give.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove from the project.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Give USERNAME a role in project SLUG (owner, manager, reviewer, annotator, viewer)."""
    if (role is None) == (not remove):
        raise fail("give either --role ROLE or --remove", 2)
    db = open_db(load_settings(data_dir))
    service.set_member(db, service.get(db, slug), username, role)
    console.print(f"{username}: removed from {slug}" if remove else f"{username}: {role} in {slug}")
