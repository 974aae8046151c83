"""indexes for the items browser

The browser reads a project's items in id order, a bounded window a page: `(project_id, id)`
makes that an index range on both databases, where before PostgreSQL walked the primary key
past other projects' items and SQLite sorted. Its check filter looks up an item's findings
of one check: `(item_id, check)`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_project_order", "items", ["project_id", "id"])
    op.create_index("ix_check_findings_item", "check_findings", ["item_id", "check"])


def downgrade() -> None:
    op.drop_index("ix_check_findings_item", table_name="check_findings")
    op.drop_index("ix_items_project_order", table_name="items")
