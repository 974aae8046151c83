"""the workflow's states are checked by the database

Each state column accepts only the values of its enum in `labelwise.states`, so a row written
behind the application's back (or by a bug) with an unknown state is refused. SQLite cannot
add a CHECK constraint to a table in place: its tables are rebuilt (batch mode), and the
indexes the rebuild does not carry over as they were (partial ones lose their WHERE, the
queue's `priority DESC` its order) are made again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the values of its day.
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "items": {"status": ("new", "in_progress", "in_review", "in_adjudication", "done")},
    "assignments": {
        "kind": ("annotate", "gold", "review", "adjudicate"),
        "status": ("active", "submitted", "skipped", "expired", "escalated", "rework"),
    },
    "annotations": {"review_status": ("submitted", "accepted", "rejected", "corrected")},
    "reviews": {"verdict": ("accept", "reject", "correct")},
}
# The indexes of those tables that a rebuild changes, as 0001-0009 made them.
REMADE: dict[str, list[tuple[str, list[Any], bool, str | None]]] = {
    "items": [
        ("uq_items_project_content", ["project_id", "content_hash"], True, "external_id IS NULL"),
        (
            "ix_items_queue",
            ["project_id", "status", sa.column("priority").desc(), "id"],
            False,
            None,
        ),
    ],
    "assignments": [
        ("uq_assignments_annotate", ["item_id", "user_id"], True, "kind IN ('annotate', 'gold')"),
        ("ix_assignments_expiry", ["project_id", "expires_at"], False, "status = 'active'"),
    ],
}


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in CHECKS.items():
        if not sqlite:
            for column, values in columns.items():
                name, condition = f"ck_{table}_{column}", _condition(column, values)
                op.create_check_constraint(name, table, condition)
            continue
        with op.batch_alter_table(table, recreate="always") as batch:
            for column, values in columns.items():
                batch.create_check_constraint(f"ck_{table}_{column}", _condition(column, values))
        _remake_indexes(table)


def _remake_indexes(table: str) -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(table)}
    for name, columns, unique, where in REMADE.get(table, []):
        if name in existing:
            op.drop_index(name, table_name=table)
        partial = None if where is None else sa.text(where)
        op.create_index(name, table, columns, unique=unique, sqlite_where=partial)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in CHECKS.items():
        if not sqlite:
            for column in columns:
                op.drop_constraint(f"ck_{table}_{column}", table, type_="check")
            continue
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in columns:
                batch.drop_constraint(f"ck_{table}_{column}", type_="check")
        _remake_indexes(table)
