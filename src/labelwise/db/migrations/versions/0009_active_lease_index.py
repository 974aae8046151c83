"""expiry reads an index of active leases only

A lease is inserted active and updated when it ends, which leaves its old index entries behind
until VACUUM. The held-lease check (`project_id, user_id, status IN ('active', 'rework')`) was
planned on `(project_id, status, expires_at)` and stepped over every lease of the project ended
since the last VACUUM, on every call. The expiry index now holds active leases only: expiry
reads it by time, and the held-lease check, which also wants rework, cannot take it and uses
the person's own index `(project_id, user_id, status)`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.drop_index("ix_assignments_expiry", table_name="assignments")
    op.create_index(
        "ix_assignments_expiry",
        "assignments",
        ["project_id", "expires_at"],
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_assignments_expiry", table_name="assignments")
    op.create_index("ix_assignments_expiry", "assignments", ["project_id", "status", "expires_at"])
