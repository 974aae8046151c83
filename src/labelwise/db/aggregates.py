"""SQL expressions for reports that group rows in the database: the UTC day of a timestamp,
and a time on item rounded to three significant figures.

They are spelled per dialect here, in the database layer, so the services that build GROUP BY
queries never ask which database they run on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, case
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[str]):  # noqa: N801 (an SQL function, named like one)
    """'YYYY-MM-DD' of a timestamp, in UTC."""

    type = String()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "sqlite")
def _sqlite_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    # Stored as ISO text in UTC ("2026-12-03 12:00:00.000000"): its first ten characters.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_day, "postgresql")
def _postgresql_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"to_char(({moment}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def three_figures(milliseconds: ColumnElement[int]) -> ColumnElement[int]:
    """The value cut to three significant figures (12,345 -> 12,300): within 1% of it, and few
    enough distinct values that a GROUP BY on it stays small at any number of rows."""
    steps = [(10**digits, 10 ** (digits - 3)) for digits in range(4, 10)]
    return case(
        (milliseconds < 1000, milliseconds),
        *(
            (milliseconds < bound, milliseconds // step * step)
            for bound, step in steps
        ),
        else_=milliseconds,
    )
