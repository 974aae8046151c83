"""`labelwise users` and `labelwise tokens`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from labelwise.cli.common import (
    DataDirOption,
    console,
    load_settings,
    open_db,
    read_password,
    reports_errors,
)
from labelwise.services import accounts

users = typer.Typer(help="Create and list user accounts.", no_args_is_help=True)
tokens = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


@users.command("create")
@reports_errors
def create_user(
    username: str,
    admin: Annotated[bool, typer.Option("--admin", help="Make a server admin.")] = False,
    password_stdin: PasswordStdin = False,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user; the password is prompted for (or read with --password-stdin)."""
    password = read_password(password_stdin)
    db = open_db(load_settings(data_dir))
    accounts.create_user(db, username, password, is_admin=admin)
    console.print(f"created user [bold]{username}[/]" + (" (admin)" if admin else ""))


@users.command("password")
@reports_errors
def set_password(
    username: str, password_stdin: PasswordStdin = False, data_dir: DataDirOption = None
) -> None:
    """Set a user's password; their browser sessions end."""
    password = read_password(password_stdin, "New password")
    accounts.set_password(open_db(load_settings(data_dir)), username, password)
    console.print(f"password changed for [bold]{username}[/]")


@users.command("list")
@reports_errors
def list_users(data_dir: DataDirOption = None) -> None:
    """List user accounts."""
    table = Table("username", "admin", "active", "created")
    for user in accounts.list_users(open_db(load_settings(data_dir))):
        table.add_row(
            user.username,
            "yes" if user.is_admin else "",
            "yes" if user.is_active else "no",
            f"{user.created_at:%Y-%m-%d}",
        )
    console.print(table)


@tokens.command("create")
@reports_errors
def create_token(
    username: str,
    name: Annotated[str, typer.Option("--name", help="A label to recognise the token by.")] = "cli",
    data_dir: DataDirOption = None,
) -> None:
    """Create an API token for USERNAME and print it (once: only its hash is kept)."""
    token, secret = accounts.create_token(open_db(load_settings(data_dir)), username, name)
    console.print(f"token {token.id} ({name}) for {username}; shown only now:", highlight=False)
    print(secret)


@tokens.command("list")
@reports_errors
def list_tokens(username: str, data_dir: DataDirOption = None) -> None:
    """List USERNAME's tokens (never the secrets)."""
    table = Table("id", "name", "starts with", "created", "revoked")
    for token in accounts.list_tokens(open_db(load_settings(data_dir)), username):
        revoked = f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else ""
        table.add_row(
            str(token.id), token.name, token.prefix + "…", f"{token.created_at:%Y-%m-%d}", revoked
        )
    console.print(table)


@tokens.command("revoke")
@reports_errors
def revoke_token(username: str, token_id: int, data_dir: DataDirOption = None) -> None:
    """Revoke token TOKEN_ID of USERNAME; requests with it are refused from now on."""
    accounts.revoke_token(open_db(load_settings(data_dir)), username, token_id)
    console.print(f"revoked token {token_id} of {username}")
