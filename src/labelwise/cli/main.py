"""The `labelwise` command."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from labelwise import serving
from labelwise.cli import (
    accounts,
    audit,
    checks,
    data,
    demo,
    erasure,
    gaps,
    gold,
    guidelines,
    items,
    predictions,
    projects,
    quality,
    releases,
    stats,
)
from labelwise.cli.common import (
    DataDirOption,
    console,
    fail,
    load_settings,
    open_db,
    reports_errors,
)
from labelwise.settings import Settings

app = typer.Typer(
    help="labelwise: self-hosted data labeling with the whole quality workflow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(accounts.users, name="users")
app.add_typer(accounts.tokens, name="tokens")
app.add_typer(projects.app, name="projects")
app.add_typer(items.app, name="items")
app.add_typer(predictions.app, name="predictions")
app.add_typer(gold.app, name="gold")
app.add_typer(guidelines.app, name="guidelines")
app.add_typer(checks.app, name="checks")
app.add_typer(quality.app, name="quality")
app.add_typer(audit.app, name="audit")
app.add_typer(releases.app, name="release")
app.add_typer(erasure.app, name="erase")
app.command("import")(data.import_command)
app.command("export")(data.export_command)
app.command("stats")(stats.stats_command)
app.command("gaps")(gaps.gaps_command)

HostOption = Annotated[
    str | None, typer.Option("--host", help="Address to listen on.", show_default="127.0.0.1")
]
PortOption = Annotated[
    int | None,
    typer.Option("--port", min=1, max=65535, help="Port to listen on.", show_default="8000"),
]
WorkersOption = Annotated[
    int, typer.Option("--workers", help="Server processes, each on its own share of connections.")
]


@app.command()
@reports_errors
def serve(
    data_dir: DataDirOption = None,
    host: HostOption = None,
    port: PortOption = None,
    workers: WorkersOption = 1,
) -> None:
    """Serve the data directory (or LABELWISE_DATABASE_URL), migrating it first if needed."""
    settings = load_settings(data_dir, host=host, port=port)
    open_db(settings).dispose()
    console.print(f"labelwise is serving http://{settings.host}:{settings.port}/", highlight=False)
    run_server(settings, workers)


@app.command("demo")
@reports_errors
def demo_command(
    data_dir: DataDirOption = None, host: HostOption = None, port: PortOption = None
) -> None:
    """Set up a demo project with sample tickets and accounts, then serve it."""
    settings = load_settings(data_dir, host=host, port=port)
    db = open_db(settings)
    demo.prepare(db, console)
    db.dispose()
    console.print(f"\nOpen http://{settings.host}:{settings.port}/login", highlight=False)
    run_server(settings, 1)


def run_server(settings: Settings, workers: int) -> None:
    """Run uvicorn on the app factory; worker processes rebuild settings from the env."""
    os.environ["LABELWISE_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url:
        os.environ["LABELWISE_DATABASE_URL"] = settings.database_url
    settings.load_secret_key()
    try:
        serving.serve(settings.host, settings.port, workers)
    except OSError as error:  # the address is taken or unknown: found before any worker starts
        raise fail(f"cannot listen on {settings.host}:{settings.port}: {error.strerror}") from None


if __name__ == "__main__":
    app()
