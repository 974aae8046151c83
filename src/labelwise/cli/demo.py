"""Prints what `labelwise demo` set up: the one time its passwords are shown."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from labelwise.db.engine import Database
from labelwise.demo import TEAM, set_up


def prepare(db: Database, console: Console) -> None:
    setup = set_up(db)
    console.print(f"demo project [bold]{setup.slug}[/]: {setup.new_items} new items")
    if setup.passwords:
        roles = {name: (role.value if role else "server admin") for name, role in TEAM}
        table = Table("username", "password", "role", title="Log in with (shown only now)")
        for username, password in setup.passwords.items():
            table.add_row(username, password, roles[username])
        console.print(table)
    if setup.existing_users:
        console.print(
            "existing accounts kept their passwords: "
            + ", ".join(setup.existing_users)
            + " (change one with `labelwise users password NAME`)"
        )
