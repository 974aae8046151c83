"""What every command shares: options, opening the migrated database, printing errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from labelwise.db.engine import Database
from labelwise.db.migrate import upgrade
from labelwise.errors import InvalidInput, LabelwiseError
from labelwise.settings import Settings
from labelwise.spec import SpecError

console = Console()
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (database, secret key, uploads). Env: LABELWISE_DATA_DIR.",
        show_default="./labelwise-data",
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    settings = Settings()
    changes = {k: v for k, v in {"data_dir": data_dir, **overrides}.items() if v is not None}
    return settings.model_copy(update=changes) if changes else settings


def open_db(settings: Settings) -> Database:
    """The database, created and migrated to the current schema if needed."""
    if settings.is_sqlite:
        settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    return db


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a one-line message and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SpecError as error:
            raise fail("invalid project spec:\n" + str(error), 2) from None
        except InvalidInput as error:
            details = [line for line in error.errors if line != str(error)]
            raise fail("\n".join([str(error), *details]), 2) from None
        except LabelwiseError as error:
            raise fail(str(error)) from None

    return wrapper


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return password
