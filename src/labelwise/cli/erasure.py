"""`labelwise erase`: hard delete (GDPR erasure) of an item, or of a person's data."""

from __future__ import annotations

from typing import Annotated

import typer

from labelwise.cli.common import DataDirOption, console, load_settings, open_db, reports_errors
from labelwise.services import erasure

app = typer.Typer(
    help="Erase an item or a person's data for good, keeping the audit trail verifiable.",
    no_args_is_help=True,
)

YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]


@app.command("item")
@reports_errors
def item(
    slug: str, external_id: str, yes: YesOption = False, data_dir: DataDirOption = None
) -> None:
    """Erase item EXTERNAL_ID of SLUG: its content, annotations, reviews, comments, its rows in
    the releases and the content of its audit events; one event records the erasure."""
    _confirm(f"Erase item {external_id} of {slug} and everything about it, for good?", yes)
    db = open_db(load_settings(data_dir))
    _report(erasure.erase_item(db, slug, external_id, actor_id=None))


@app.command("person")
@reports_errors
def person(username: str, yes: YesOption = False, data_dir: DataDirOption = None) -> None:
    """Erase USERNAME's data: annotations, comments, questions, tokens, sessions, their
    answers in the releases; the account is renamed to a pseudonym and cannot log in."""
    _confirm(f"Erase {username}'s data for good?", yes)
    db = open_db(load_settings(data_dir))
    _report(erasure.erase_person(db, username, actor_id=None))


def _confirm(question: str, yes: bool) -> None:
    if not yes and not typer.confirm(question):
        console.print("nothing erased")
        raise typer.Exit(1)


def _report(done: erasure.Erasure) -> None:
    counts = ", ".join(f"{n} {kind}" for kind, n in done.counts.items())
    console.print(
        f"erased {done.erased}: {counts}; {done.redacted_events} audit events redacted, "
        f"{done.releases} releases changed",
        highlight=False,
        soft_wrap=True,
    )
