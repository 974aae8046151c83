"""the dashboard reads running counts, and keeps its last quality figures

A dashboard over millions of annotations cannot group them on each load: even from an index,
SQLite spends most of a second per GROUP BY over 3M rows. So the database keeps the counts the
dashboard draws in `dashboard_counts`, moved by triggers in the same transaction as the rows
they count, whoever writes them:

- kind 'day': annotations per (person, UTC day of created_at)
- kind 'time': annotations per (person, time on item to two significant figures)
- kind 'done': items per UTC day they became done (`items.done_at`, new here: set when an
  item becomes done, cleared when it leaves; person 0)

Items done before this revision get the time of their last annotation or review, the closest
the rows tell. Reviews, far fewer, are grouped by (day, verdict) from a covering index.
`dashboard_snapshots` keeps each project's last computed quality figures (agreement, class
balance, gold accuracy) with the audit-chain position they were computed at.

The triggers are not in the models (SQLAlchemy declares none); `tests/test_dashboard.py` checks
that the counts follow inserts, updates and deletes on both databases.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Written out, not imported: a migration keeps the expressions of its day.
DAY = {
    "sqlite": "substr({column}, 1, 10)",
    "postgresql": "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
}
# Time on item to two significant figures (12,345 ms -> 12,000): a few hundred values per
# person at most, so the page reads a few thousand counts for any number of annotations.
TWO_FIGURES = (
    "CASE WHEN {ms} < 100 THEN {ms} WHEN {ms} < 1000 THEN {ms} / 10 * 10 "
    "WHEN {ms} < 10000 THEN {ms} / 100 * 100 WHEN {ms} < 100000 THEN {ms} / 1000 * 1000 "
    "WHEN {ms} < 1000000 THEN {ms} / 10000 * 10000 ELSE {ms} / 100000 * 100000 END"
)


def _counts(dialect: str, table: str, row: str) -> list[tuple[str, str, str, str]]:
    """(kind, person, key, condition) of what one row (NEW or OLD) of `table` counts."""
    day = DAY[dialect]
    if table == "items":
        return [("done", "0", day.format(column=f"{row}.done_at"), f"{row}.done_at IS NOT NULL")]
    bucket = TWO_FIGURES.format(ms=f"{row}.time_ms")
    return [
        ("day", f"{row}.user_id", day.format(column=f"{row}.created_at"), "1 = 1"),
        ("time", f"{row}.user_id", f"CAST({bucket} AS TEXT)", f"{row}.time_ms IS NOT NULL"),
    ]


def _add(count: tuple[str, str, str, str], row: str) -> str:
    kind, person, key, condition = count
    return (
        "INSERT INTO dashboard_counts (project_id, kind, user_id, bucket, n) "
        f"SELECT {row}.project_id, '{kind}', {person}, {key}, 1 WHERE {condition} "
        "ON CONFLICT (project_id, kind, user_id, bucket) "
        "DO UPDATE SET n = dashboard_counts.n + 1;"
    )


def _remove(count: tuple[str, str, str, str], row: str) -> str:
    kind, person, key, condition = count
    return (
        f"UPDATE dashboard_counts SET n = n - 1 WHERE {condition} "
        f"AND project_id = {row}.project_id AND kind = '{kind}' "
        f"AND user_id = {person} AND bucket = {key};"
    )


# table -> the columns whose change moves its counts
WATCHED = {
    "annotations": "project_id, user_id, created_at, time_ms",
    "items": "project_id, done_at",
}


def _steps(dialect: str, table: str) -> tuple[str, str]:
    """The statements that count a NEW row in, and those that count an OLD row out."""
    new = " ".join(_add(count, "NEW") for count in _counts(dialect, table, "NEW"))
    old = " ".join(_remove(count, "OLD") for count in _counts(dialect, table, "OLD"))
    return new, old


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, columns in WATCHED.items():
        new, old = _steps("sqlite", table)
        body = {"INSERT": new, "DELETE": old, f"UPDATE OF {columns}": f"{old} {new}"}
        for event, steps in body.items():
            name = f"tr_{table}_counts_{event.split()[0].lower()}"
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {steps} END"
            )
    return statements


def _postgresql_triggers() -> list[str]:
    statements = []
    for table, columns in WATCHED.items():
        new, old = _steps("postgresql", table)
        function = f"labelwise_{table}_counts"
        statements.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {old} END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {new} END IF; "
            "RETURN NULL; END $$"
        )
        statements.append(
            f"CREATE TRIGGER tr_{table}_counts AFTER INSERT OR DELETE OR UPDATE OF {columns} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    return statements


def _backfill(dialect: str) -> list[str]:
    day = DAY[dialect]
    created, done = day.format(column="created_at"), day.format(column="done_at")
    bucket = f"CAST({TWO_FIGURES.format(ms='time_ms')} AS TEXT)"
    insert = "INSERT INTO dashboard_counts (project_id, kind, user_id, bucket, n) "
    return [
        insert + f"SELECT project_id, 'day', user_id, {created}, count(*) FROM annotations "
        f"GROUP BY project_id, user_id, {created}",
        insert + f"SELECT project_id, 'time', user_id, {bucket}, count(*) FROM annotations "
        f"WHERE time_ms IS NOT NULL GROUP BY project_id, user_id, {bucket}",
        insert + f"SELECT project_id, 'done', 0, {done}, count(*) FROM items "
        f"WHERE done_at IS NOT NULL GROUP BY project_id, {done}",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("items", sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE items SET done_at = (SELECT max(moment) FROM ("
        " SELECT a.updated_at AS moment FROM annotations a WHERE a.item_id = items.id"
        " UNION ALL SELECT r.created_at FROM reviews r WHERE r.item_id = items.id) AS t)"
        " WHERE status = 'done'"
    )
    op.create_table(
        "dashboard_counts",
        sa.Column("project_id", Id, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            ondelete="CASCADE",
            name="fk_dashboard_counts_project_id_projects",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "kind", "user_id", "bucket", name="pk_dashboard_counts"
        ),
    )
    for statement in _backfill(dialect):
        op.execute(statement)
    triggers = _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers()
    for statement in triggers:
        op.execute(statement)
    op.create_index("ix_reviews_outcomes", "reviews", ["project_id", "created_at", "verdict"])
    op.create_table(
        "dashboard_snapshots",
        sa.Column("project_id", Id, nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            ondelete="CASCADE",
            name="fk_dashboard_snapshots_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", name="pk_dashboard_snapshots"),
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_table("dashboard_snapshots")
    op.drop_index("ix_reviews_outcomes", table_name="reviews")
    for table in WATCHED:
        if dialect == "sqlite":
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER tr_{table}_counts_{event}")
        else:
            op.execute(f"DROP TRIGGER tr_{table}_counts ON {table}")
            op.execute(f"DROP FUNCTION labelwise_{table}_counts()")
    op.drop_table("dashboard_counts")
    op.drop_column("items", "done_at")  # in place: SQLite 3.35+, no table rebuild
