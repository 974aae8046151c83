"""checks: findings of the automated checks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(name: str, target: str, *, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, ID, sa.ForeignKey(target, ondelete="CASCADE"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "check_findings",
        sa.Column("id", ID, primary_key=True),
        _fk("project_id", "projects.id", nullable=False),
        sa.Column("check", sa.String(40), nullable=False),
        _fk("item_id", "items.id", nullable=True),
        _fk("annotation_id", "annotations.id", nullable=True),
        _fk("user_id", "users.id", nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_check_findings_project_id", "check_findings", ["project_id"])


def downgrade() -> None:
    op.drop_table("check_findings")
