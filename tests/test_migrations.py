"""The schema comes only from the migrations, and they match the models exactly."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from labelwise.db.engine import Database
from labelwise.db.migrate import is_current, upgrade
from labelwise.db.models import Base


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    assert is_current(db.engine)
    upgrade(db.engine)
    assert is_current(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "projects", "items", "annotations", "alembic_version"} <= tables


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/wal.db")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_inline_guidelines_of_older_specs_become_version_1(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db.engine, "0005")
    spec = {"name": "Old", "slug": "old", "guidelines": "# Rules\n\nRefunds are billing."}
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO projects (slug, name, spec) VALUES ('old', 'Old', :spec)"),
            {"spec": json.dumps(spec)},
        )
    upgrade(db.engine)
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT number, body, note FROM guideline_versions"))
        assert rows.all() == [(1, "# Rules\n\nRefunds are billing.", "from the project spec")]
    db.dispose()
