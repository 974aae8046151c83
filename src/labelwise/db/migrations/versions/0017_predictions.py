"""predictions: model answers shown as suggestions, and what labelers made of them

`predictions` holds one model's answers per item (one row per item and model; a re-import
replaces the row, so an item's highest id is its latest prediction). Annotations record the
model whose suggestion was shown and the outcome (accepted, edited, rejected) with its detail
per question. SQLite cannot add a CHECK constraint to a table in place, but it can add a
column that carries one.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Written out, not imported: a migration keeps the values of its day.
OUTCOMES = "prelabel_outcome IN ('accepted', 'edited', 'rejected')"


def _fk(name: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, ID, sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", ID, primary_key=True),
        _fk("project_id", "projects.id"),
        _fk("item_id", "items.id"),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("uq_predictions_item_model", "predictions", ["item_id", "model"], unique=True)
    op.create_index("ix_predictions_item_latest", "predictions", ["item_id", "id"])
    op.create_index("ix_predictions_project", "predictions", ["project_id"])
    op.add_column("annotations", sa.Column("prelabel_model", sa.String(200), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE annotations ADD COLUMN prelabel_outcome VARCHAR(10) "
            f"CONSTRAINT ck_annotations_prelabel_outcome CHECK ({OUTCOMES})"
        )
    else:
        op.add_column("annotations", sa.Column("prelabel_outcome", sa.String(10), nullable=True))
        op.create_check_constraint("ck_annotations_prelabel_outcome", "annotations", OUTCOMES)
    op.add_column("annotations", sa.Column("prelabel", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("annotations", "prelabel")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_annotations_prelabel_outcome", "annotations", type_="check")
    op.drop_column("annotations", "prelabel_outcome")
    op.drop_column("annotations", "prelabel_model")
    op.drop_table("predictions")
