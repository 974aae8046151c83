"""What every command shares: options, opening the migrated database, printing errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from labelwise.db.engine import Database
from labelwise.db.migrate import upgrade
from labelwise.errors import InvalidInput, LabelwiseError
from labelwise.formats import FORMATS, ParsedRow
from labelwise.settings import Settings, from_env
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
    settings = from_env()
    changes = {k: v for k, v in {"data_dir": data_dir, **overrides}.items() if v is not None}
    return settings.model_copy(update=changes) if changes else settings


def open_db(settings: Settings) -> Database:
    """The database, created and migrated to the current schema if needed."""
    if settings.is_sqlite:
        settings.ensure_data_dir()
    url = settings.resolved_database_url
    db = Database(url)
    try:
        upgrade(db.engine)
    except OperationalError as error:  # no server there, a wrong password, a locked file...
        db.dispose()
        where = make_url(url).render_as_string(hide_password=True)
        reason = str(error.orig or error).strip().split("\n")[0]
        raise fail(f"cannot open the database {where}: {reason}") from None
    return db


@contextmanager
def jsonl_rows(path: Path) -> Iterator[Iterator[ParsedRow]]:
    """The rows of a JSONL file, each with its line number, read as the file is consumed."""
    reader = FORMATS["jsonl"].read
    assert reader is not None, "JSONL is readable"
    with path.open("rb") as handle:
        yield iter(reader(handle))


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as an error (as written: no rich markup in it) and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
