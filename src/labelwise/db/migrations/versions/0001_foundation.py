"""foundation: users, tokens, sessions, login failures, projects, members, items, annotations

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, primary_key=True)


def _fk(name: str, target: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, ID, sa.ForeignKey(target, **kw), nullable=False)  # type: ignore[arg-type]


def _now(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _now("created_at"),
    )
    op.create_table(
        "api_tokens",
        _id(),
        _fk("user_id", "users.id", ondelete="CASCADE"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _now("created_at"),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "sessions",
        _id(),
        _fk("user_id", "users.id", ondelete="CASCADE"),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _now("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "login_failures",
        _id(),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    op.create_table(
        "projects",
        _id(),
        sa.Column("slug", sa.String(63), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
    )
    op.create_table(
        "memberships",
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        _fk("user_id", "users.id", ondelete="CASCADE"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "items",
        _id(),
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        sa.Column("external_id", sa.String(255)),
        sa.Column("content_hash", sa.String(32)),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), server_default="new", nullable=False),
        sa.Column("priority", sa.Double(), server_default=sa.text("0"), nullable=False),
        _now("created_at"),
    )
    op.create_index(
        "uq_items_project_external", "items", ["project_id", "external_id"], unique=True
    )
    op.create_index(
        "uq_items_project_content",
        "items",
        ["project_id", "content_hash"],
        unique=True,
        sqlite_where=sa.text("external_id IS NULL"),
        postgresql_where=sa.text("external_id IS NULL"),
    )
    op.create_table(
        "annotations",
        _id(),
        _fk("project_id", "projects.id", ondelete="CASCADE"),
        _fk("item_id", "items.id", ondelete="CASCADE"),
        _fk("user_id", "users.id"),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("time_ms", sa.Integer()),
        _now("created_at"),
        _now("updated_at"),
    )
    op.create_index("ix_annotations_item", "annotations", ["item_id"])
    op.create_index("ix_annotations_project_item", "annotations", ["project_id", "item_id", "id"])


def downgrade() -> None:
    for table in (
        "annotations",
        "items",
        "memberships",
        "projects",
        "login_failures",
        "sessions",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
