"""the dashboard reads aggregates from indexes, and keeps its last quality figures

The dashboard counts a big project's work per day and per annotator with GROUP BY queries, so
each reads one covering index instead of the annotation rows: annotations by (project, person,
time, time on item), reviews by (project, time, verdict), items by the moment they were done
(`items.done_at`, new: set when an item becomes done, cleared when it leaves). Items done before
this revision get the time of their last annotation or review, the closest the rows tell.
`dashboard_snapshots` keeps each project's last computed quality figures (agreement, class
balance, gold accuracy) with the audit-chain position they were computed at.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("items", sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE items SET done_at = (SELECT max(moment) FROM ("
        " SELECT a.updated_at AS moment FROM annotations a WHERE a.item_id = items.id"
        " UNION ALL SELECT r.created_at FROM reviews r WHERE r.item_id = items.id) AS t)"
        " WHERE status = 'done'"
    )
    op.create_index("ix_items_done", "items", ["project_id", "done_at"])
    op.create_index(
        "ix_annotations_work", "annotations", ["project_id", "user_id", "created_at", "time_ms"]
    )
    op.create_index("ix_reviews_outcomes", "reviews", ["project_id", "created_at", "verdict"])
    op.create_table(
        "dashboard_snapshots",
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey(
                "projects.id",
                ondelete="CASCADE",
                name="fk_dashboard_snapshots_project_id_projects",
            ),
            nullable=False,
        ),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_dashboard_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_snapshots")
    op.drop_index("ix_reviews_outcomes", table_name="reviews")
    op.drop_index("ix_annotations_work", table_name="annotations")
    op.drop_index("ix_items_done", table_name="items")
    op.drop_column("items", "done_at")  # in place: SQLite 3.35+, no table rebuild
