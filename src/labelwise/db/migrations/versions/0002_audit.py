"""audit: hash-chained audit events and one head row per chain

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _hash(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(64), nullable=False)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("chain", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        # No foreign keys: the trail outlives the projects and users it mentions.
        sa.Column("project_id", ID),
        sa.Column("actor_id", ID),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(255)),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _hash("prev_hash"),
        _hash("hash"),
    )
    op.create_index("uq_audit_events_chain_seq", "audit_events", ["chain", "seq"], unique=True)
    op.create_index(
        "ix_audit_events_target", "audit_events", ["chain", "target_type", "target_id", "seq"]
    )
    op.create_table(
        "audit_heads",
        sa.Column("chain", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _hash("hash"),
    )


def downgrade() -> None:
    op.drop_table("audit_heads")
    op.drop_table("audit_events")
