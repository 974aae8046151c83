"""Statements of the labeling hot path, compiled once and run straight on the DBAPI cursor.

Running a cached Core statement still costs SQLAlchemy about 30 µs of Python per call
(execution context, parameter processing, Row objects), several times what SQLite takes to
run it. Next and submit run about 18 statements per annotation, on SQLite inside its one
write lock, where each microsecond holds up every other writer (bench/RESULTS.md). A
`Prepared` statement keeps, per dialect and set of parameter names, the SQL SQLAlchemy
compiled (its constants written in), where each parameter goes with its type's conversion,
and the result columns' conversions, so a call does only that work. It runs inside the
caller's unit of work.

Only the labeling store (`db/labeling/`) runs them. Each names the NamedTuple its rows come
back as, and the names are checked against the statement's columns when it is compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, overload

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ValuesBase
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any]
R = TypeVar("R", bound=tuple[Any, ...])


class NoRows(NamedTuple):
    """The row type of a statement that answers none (DML without RETURNING)."""


@dataclass(frozen=True)
class _Plan:
    sql: str
    constants: dict[str, Any]  # values the compiler added as parameters (SQLite's OFFSET 0)
    order: tuple[str, ...] | None  # positional parameter names, or None: named
    convert_in: tuple[tuple[str, Processor], ...]
    convert_out: tuple[tuple[int, Processor], ...]
    row: Callable[..., Any] | None  # the row class; None: plain tuples
    answers: bool  # the statement's result columns are known (a SELECT, a RETURNING)

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.constants, **params}
        for name, convert in self.convert_in:
            values[name] = convert(values[name])
        return values if self.order is None else [values[name] for name in self.order]

    def rows(self, raw: Sequence[Any]) -> list[Any]:
        if self.convert_out:
            raw = [self._converted(values) for values in raw]
        if self.row is None:
            return [tuple(values) for values in raw]
        return [self.row(*values) for values in raw]

    def _converted(self, values: Sequence[Any]) -> list[Any]:
        out = list(values)
        for index, convert in self.convert_out:
            out[index] = convert(out[index])
        return out


class Prepared(Generic[R]):
    """A Core statement for the hot path; rows come back as `row` (a NamedTuple class)."""

    @overload
    def __init__(self: Prepared[NoRows], statement: ClauseElement) -> None: ...
    @overload
    def __init__(self, statement: ClauseElement, row: type[R]) -> None: ...
    def __init__(self, statement: ClauseElement, row: type[Any] = NoRows) -> None:
        self.statement = statement
        self.row = row
        self._plans: dict[tuple[str, frozenset[str]], _Plan] = {}

    def all(
        self, connection: Connection, params: Mapping[str, Any], *, commit: bool = False
    ) -> list[R]:
        """The rows. `commit`: this is the unit of work's last statement (`_commit_with`)."""
        key = (connection.dialect.name, frozenset(params))
        plan = self._plans.get(key) or self._plans.setdefault(
            key, _compile(self.statement, self.row, connection.dialect, key[1])
        )
        cursor = connection.connection.cursor()
        try:
            if commit and connection.dialect.name == "postgresql":
                _commit_with(connection, cursor, plan.sql, plan.parameters(params))
            else:
                cursor.execute(plan.sql, plan.parameters(params))
            # psycopg builds `description` anew on each read: ask only when the plan does not
            # know the statement's columns (text(), DML without RETURNING).
            return plan.rows(cursor.fetchall()) if plan.answers or cursor.description else []
        finally:
            cursor.close()

    def first(
        self, connection: Connection, params: Mapping[str, Any], *, commit: bool = False
    ) -> R | None:
        rows = self.all(connection, params, commit=commit)
        return rows[0] if rows else None

    def one(self, connection: Connection, params: Mapping[str, Any]) -> R:
        rows = self.all(connection, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}: {self.statement}")
        return rows[0]


def _commit_with(connection: Connection, cursor: Any, sql: str, parameters: Any) -> None:
    """Run the unit of work's last statement and COMMIT in one round trip (psycopg's pipeline).

    The row locks the transaction holds (a project's audit head, an item) are then released
    without waiting for this thread to get the interpreter back between the statement's reply
    and sending COMMIT, which under load took longer than the statement
    (bench/RESULTS.md). COMMIT goes as a statement: psycopg's `commit()` in a pipeline waits
    for its own reply, and leaving the pipeline then costs another round trip. The caller must
    do nothing more in the unit of work: its own commit then finds the transaction over and
    has nothing to send.
    """
    driver = connection.connection.driver_connection
    assert driver is not None, "a live connection"
    with driver.pipeline():
        cursor.execute(sql, parameters)
        driver.execute("COMMIT")


def _compile(
    statement: ClauseElement, row: type[Any], dialect: Dialect, keys: frozenset[str]
) -> _Plan:
    # The parameter names pick an INSERT or UPDATE's columns; given to any other statement
    # they would add columns to the INSERTs and UPDATEs of its CTEs.
    column_keys = sorted(keys) if isinstance(statement, ValuesBase) else None
    statement = _constants_inline(statement, keys)
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch:  # run by SQLAlchemy's execution
        names = [c.name for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        raise ValueError(f"pass values for the Python-side defaults of {', '.join(names)}")
    sql, inline = _written_in(compiled)
    constants = {
        name: bind.effective_value
        for bind, name in compiled.bind_names.items()
        if not bind.required and name not in keys and name not in inline
    }
    processors: dict[str, Processor] = compiled._bind_processors  # type: ignore[assignment]
    convert_in = tuple(
        (name, convert) for name, convert in processors.items() if name in keys or name in constants
    )
    columns = list(getattr(statement, "exported_columns", ()))
    convert_out = tuple(
        (index, convert)
        for index, column in enumerate(columns)
        if (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
    )
    answered = tuple(c.key or f"c{i}" for i, c in enumerate(columns))
    plain = row in (NoRows, tuple)  # no row class: plain tuples
    if not plain and columns and row._fields != answered:
        raise TypeError(f"{row.__name__} has {row._fields}; the statement answers {answered}")
    positions = compiled.positiontup or ()
    order = tuple(n for n in positions if n not in inline) if compiled.positional else None
    row_class = None if plain else row
    return _Plan(sql, constants, order, convert_in, convert_out, row_class, bool(columns))


def _constants_inline(statement: ClauseElement, keys: frozenset[str]) -> ClauseElement:
    """The statement with the values it was built with (statuses, kinds, LIMIT 1, IN lists)
    written into its SQL, so that only the caller's values are parameters.

    PostgreSQL plans a prepared statement once only when that generic plan looks as cheap as
    plans made for each call's values. With constants as parameters it can see neither a
    partial index's predicate nor a LIMIT: the generic plan looked worse, and three of the
    labeling path's statements were planned anew on every call (bench/RESULTS.md).
    """

    def inline(bind: BindParameter[Any]) -> None:
        if not bind.required and bind.key not in keys:
            bind.literal_execute = True

    return visitors.cloned_traverse(statement, {}, {"bindparam": inline})


def _written_in(compiled: SQLCompiler) -> tuple[str, set[str]]:
    """The SQL with the values `_constants_inline` marked written in, and their names."""
    sql, names = compiled.string, set()
    for bind in compiled.literal_execute_params:
        names.add(name := compiled.bind_names[bind])
        sql = sql.replace(f"__[POSTCOMPILE_{name}]", _literal(compiled, bind))
    return sql, names


def _literal(compiled: SQLCompiler, bind: BindParameter[Any]) -> str:
    value = bind.effective_value
    if bind.expanding:
        return ", ".join(compiled.render_literal_value(v, bind.type) for v in value or ())
    return compiled.render_literal_value(value, bind.type)
