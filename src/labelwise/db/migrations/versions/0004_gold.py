"""gold: gold answers, qualification tests, gold assignments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _unique_work(kinds: str) -> None:
    op.create_index(
        "uq_assignments_annotate",
        "assignments",
        ["item_id", "user_id"],
        unique=True,
        sqlite_where=sa.text(f"kind IN ({kinds})"),
        postgresql_where=sa.text(f"kind IN ({kinds})"),
    )


def upgrade() -> None:
    op.create_table(
        "gold_answers",
        sa.Column("item_id", ID, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "project_id", ID, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_gold_answers_project_id", "gold_answers", ["project_id"])
    op.create_table(
        "qualifications",
        sa.Column(
            "project_id", ID, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(10), server_default="pending", nullable=False),
        sa.Column("answered", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("correct", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("project_id", "user_id"),
    )
    op.drop_index("uq_assignments_annotate", "assignments")
    _unique_work("'annotate', 'gold'")


def downgrade() -> None:
    op.drop_index("uq_assignments_annotate", "assignments")
    _unique_work("'annotate'")
    op.drop_table("qualifications")
    op.drop_table("gold_answers")
