"""releases: immutable dataset releases and their frozen rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "project_id", ID, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_by", ID, sa.ForeignKey("users.id")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("uq_releases_project_name", "releases", ["project_id", "name"], unique=True)
    op.create_table(
        "release_rows",
        sa.Column(
            "release_id",
            ID,
            sa.ForeignKey("releases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        # No foreign key: a release outlives a hard delete of an item it froze.
        sa.Column("item_id", ID, primary_key=True, autoincrement=False),
        sa.Column("row", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("release_rows")
    op.drop_table("releases")
