"""guidelines: numbered versions, examples, acknowledgements; the version each annotation
was made under

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(name: str, target: str, *, nullable: bool, ondelete: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, ID, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _now(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "guideline_versions",
        sa.Column("id", ID, primary_key=True),
        _fk("project_id", "projects.id", nullable=False, ondelete="CASCADE"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        _fk("published_by", "users.id", nullable=True, ondelete="SET NULL"),
        _now("published_at"),
    )
    op.create_index(
        "uq_guideline_versions_project_number",
        "guideline_versions",
        ["project_id", "number"],
        unique=True,
    )
    op.create_table(
        "guideline_examples",
        sa.Column("id", ID, primary_key=True),
        _fk("project_id", "projects.id", nullable=False, ondelete="CASCADE"),
        _fk("item_id", "items.id", nullable=False, ondelete="CASCADE"),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("added_in", sa.Integer()),
        _fk("added_by", "users.id", nullable=True, ondelete="SET NULL"),
        _now("created_at"),
    )
    op.create_index("ix_guideline_examples_project", "guideline_examples", ["project_id", "id"])
    op.create_table(
        "guideline_acknowledgements",
        _fk("project_id", "projects.id", nullable=False, ondelete="CASCADE"),
        _fk("user_id", "users.id", nullable=False, ondelete="CASCADE"),
        sa.Column("version", sa.Integer(), nullable=False),
        _now("acknowledged_at"),
        sa.PrimaryKeyConstraint("project_id", "user_id", "version"),
    )
    # Plain ADD COLUMN (no table rebuild): SQLite keeps the partial indexes as they are.
    op.add_column("annotations", sa.Column("guideline_version", sa.Integer()))
    op.add_column("annotation_revisions", sa.Column("guideline_version", sa.Integer()))
    _publish_inline_guidelines()


def _publish_inline_guidelines() -> None:
    """Specs used to hold their guidelines as inline markdown: that text becomes version 1."""
    connection = op.get_bind()
    projects = sa.table("projects", sa.column("id", ID), sa.column("spec", sa.Text()))
    versions = sa.table(
        "guideline_versions",
        sa.column("project_id", ID),
        sa.column("number", sa.Integer()),
        sa.column("body", sa.Text()),
        sa.column("note", sa.String()),
    )
    for project_id, spec in connection.execute(sa.select(projects.c.id, projects.c.spec)):
        body = json.loads(spec).get("guidelines")
        if isinstance(body, str) and body.strip():
            connection.execute(
                versions.insert().values(
                    project_id=project_id, number=1, body=body, note="from the project spec"
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("annotation_revisions") as batch:
        batch.drop_column("guideline_version")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("guideline_version")
    for table in ("guideline_acknowledgements", "guideline_examples", "guideline_versions"):
        op.drop_table(table)
