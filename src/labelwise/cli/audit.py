"""`labelwise audit`: check that nobody edited or deleted audit events, or the annotations
they vouch for, behind the app's back."""

from __future__ import annotations

import typer

from labelwise.cli.common import (
    DataDirOption,
    console,
    err_console,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.services import audit

app = typer.Typer(help="Check the tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
@reports_errors
def verify(data_dir: DataDirOption = None) -> None:
    """Recompute every hash chain and compare every annotation with its latest event; name
    each chain's first broken link, each changed or deleted annotation and each event whose
    content was erased without an erasure on record, and exit 1 if any."""
    db = open_db(load_settings(data_dir))
    report = audit.verify(db)
    db.dispose()
    console.print(
        f"checked {report.chains} chains, {report.events} events, "
        f"{report.annotations} annotations ({report.not_covered} not covered: "
        "written before events recorded the annotation's state), "
        f"{report.erased} events with erased content",
        highlight=False,
    )
    if report.ok:
        console.print("audit trail intact")
        return
    for broken in report.breaks:
        err_console.print(_describe(broken), highlight=False, soft_wrap=True)
    for mismatch in report.mismatches:
        err_console.print(_describe_mismatch(mismatch), highlight=False, soft_wrap=True)
    for unrecorded in report.unrecorded:
        err_console.print(_describe_unrecorded(unrecorded), highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _describe(broken: audit.Break) -> str:
    where = "server" if broken.project_id is None else f"project id {broken.project_id}"
    event = "" if broken.event_id is None else f", event id {broken.event_id}"
    return f"broken: chain {broken.chain} ({where}) at seq {broken.seq}{event}: {broken.reason}"


def _describe_mismatch(mismatch: audit.Mismatch) -> str:
    project = mismatch.project or f"id {mismatch.project_id}"
    item = mismatch.item_external_id or "unknown"
    return (
        f"changed: annotation {mismatch.annotation_id} (item {item}, project {project}) "
        f"against event id {mismatch.event_id} (seq {mismatch.seq}): {mismatch.reason}"
    )


def _describe_unrecorded(event: audit.Unrecorded) -> str:
    where = "server" if event.project_id is None else f"project id {event.project_id}"
    return (
        f"erased: chain {event.chain} ({where}) at seq {event.seq}, event id {event.event_id}: "
        f"{event.reason}"
    )
