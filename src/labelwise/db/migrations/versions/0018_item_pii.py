"""items keep what PII detection found in them at import

`items.pii` holds, per field, how many values of each kind the project's PII rule found when
the item was imported (`{"text": {"email": 1}}`), or NULL for none: the marker that flag mode
keeps instead of changing the text, and that the listing filters on. Few items hold PII, so
the index on the marked ones is small and costs the unmarked ones nothing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

MARKED = sa.text("pii IS NOT NULL")


def upgrade() -> None:
    op.add_column("items", sa.Column("pii", sa.Text(), nullable=True))
    op.create_index(
        "ix_items_pii",
        "items",
        ["project_id", "id"],
        sqlite_where=MARKED,
        postgresql_where=MARKED,
    )


def downgrade() -> None:
    op.drop_index("ix_items_pii", table_name="items")
    # Both databases drop a column in place (SQLite since 3.35): no rebuild of the table.
    op.execute("ALTER TABLE items DROP COLUMN pii")
