"""SQL for reports that group rows in the database: the UTC day of a timestamp.

Spelled per dialect here, in the database layer, so the services that build GROUP BY queries
never ask which database they run on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[Any]):
    """The UTC day of a timestamp: 'YYYY-MM-DD' text on SQLite, a DATE on PostgreSQL (read it
    with `str()`)."""

    type = Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "sqlite")
def _sqlite_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    # Stored as ISO text in UTC ("2026-12-03 12:00:00.000000"): its first ten characters.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_day, "postgresql")
def _postgresql_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"
