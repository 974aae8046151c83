"""workflow: assignments (leases), annotation revisions, reviews, escalations, comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, ID, sa.ForeignKey(target, **kw), nullable=nullable)  # type: ignore[arg-type]


def _now(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _int(name: str, default: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), server_default=sa.text(default), nullable=False)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): SQLite keeps the partial indexes as they are.
    op.add_column("items", _int("slots_used", "0"))
    op.add_column(
        "items", sa.Column("on_hold", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column("items", sa.Column("final_answers", sa.Text()))
    op.add_column("items", sa.Column("final_by", ID))
    op.create_index(
        "ix_items_queue", "items", ["project_id", "status", sa.column("priority").desc(), "id"]
    )

    op.add_column("annotations", _int("revision", "1"))
    op.add_column(
        "annotations",
        sa.Column("review_status", sa.String(12), server_default="submitted", nullable=False),
    )
    op.drop_index("ix_annotations_item", "annotations")
    op.create_index("uq_annotations_item_user", "annotations", ["item_id", "user_id"], unique=True)
    op.create_index("ix_annotations_project_user", "annotations", ["project_id", "user_id"])

    op.create_table(
        "annotation_revisions",
        _id(),
        _fk("annotation_id", "annotations.id", ondelete="CASCADE"),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("time_ms", sa.Integer()),
        _now("created_at"),
    )
    op.create_index(
        "uq_annotation_revisions",
        "annotation_revisions",
        ["annotation_id", "revision"],
        unique=True,
    )

    op.create_table(
        "assignments",
        _id(),
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        _fk("item_id", "items.id", ondelete="CASCADE"),
        _fk("user_id", "users.id"),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        _fk("annotation_id", "annotations.id", nullable=True, ondelete="CASCADE"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _now("created_at"),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("skip_reason", sa.Text()),
    )
    op.create_index(
        "uq_assignments_annotate",
        "assignments",
        ["item_id", "user_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'annotate'"),
        postgresql_where=sa.text("kind = 'annotate'"),
    )
    op.create_index("ix_assignments_user", "assignments", ["project_id", "user_id", "status"])
    op.create_index("ix_assignments_expiry", "assignments", ["project_id", "status", "expires_at"])
    op.create_index("ix_assignments_annotation", "assignments", ["annotation_id"])
    op.create_index("ix_assignments_item", "assignments", ["item_id"])

    op.create_table(
        "reviews",
        _id(),
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        _fk("item_id", "items.id", ondelete="CASCADE"),
        _fk("annotation_id", "annotations.id", ondelete="CASCADE"),
        sa.Column("revision", sa.Integer(), nullable=False),
        _fk("reviewer_id", "users.id"),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("feedback", sa.Text()),
        sa.Column("corrected_answers", sa.Text()),
        _now("created_at"),
    )
    op.create_index("ix_reviews_annotation", "reviews", ["annotation_id"])
    op.create_index("ix_reviews_item", "reviews", ["item_id"])

    op.create_table(
        "review_strata",
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        sa.Column("stratum", sa.String(255), nullable=False),
        _int("seen", "0"),
        _int("selected", "0"),
        sa.PrimaryKeyConstraint("project_id", "stratum"),
    )

    op.create_table(
        "escalations",
        _id(),
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        _fk("item_id", "items.id", ondelete="CASCADE"),
        _fk("user_id", "users.id"),
        sa.Column("question", sa.Text(), nullable=False),
        _now("created_at"),
        sa.Column("answer", sa.Text()),
        _fk("answered_by", "users.id", nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_escalations_project", "escalations", ["project_id", "answered_at"])
    op.create_index("ix_escalations_item", "escalations", ["item_id"])

    op.create_table(
        "comments",
        _id(),
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        _fk("item_id", "items.id", ondelete="CASCADE"),
        _fk("user_id", "users.id"),
        sa.Column("body", sa.Text(), nullable=False),
        _now("created_at"),
    )
    op.create_index("ix_comments_item", "comments", ["item_id", "id"])


def downgrade() -> None:
    for table in (
        "comments",
        "escalations",
        "review_strata",
        "reviews",
        "assignments",
        "annotation_revisions",
    ):
        op.drop_table(table)
    op.drop_index("ix_annotations_project_user", "annotations")
    op.drop_index("uq_annotations_item_user", "annotations")
    op.create_index("ix_annotations_item", "annotations", ["item_id"])
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("review_status")
        batch.drop_column("revision")
    op.drop_index("ix_items_queue", "items")
    with op.batch_alter_table("items") as batch:
        for column in ("final_by", "final_answers", "on_hold", "slots_used"):
            batch.drop_column(column)
