"""Rows written and read with one statement each on the driver's cursor: the poller's hot path.

SQLAlchemy compiles each statement once per database, from the models' own tables, with the
columns' types (bounded text, UTC datetimes) and defaults; the DB-API then runs it. A flush
sorts and tracks every pending object, and even a cached Core statement costs ten times what
the driver takes to run it: at three or four rows and as many look-ups a message, that was
most of the poller's time (docs/benchmarks.md). A driver error is raised as SQLAlchemy's own
(an IntegrityError is one), inside the caller's transaction and savepoint as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Callable, TypeVar

from sqlalchemy import Column, Connection, Executable, Table, bindparam, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, make_transient_to_detached

from models.base import Base
from models.quiet import wrote
from models.held import hold, next_id, send

Row = TypeVar("Row", bound=Base)


def insert_row(session: Session, row: Row) -> Row:
    """Write `row`, a new model instance, in the session's transaction now, and set its id.

    For rows a transaction adds and then leaves alone (audit events; the inbound record, whose
    outcome `update_row` writes): the row stays outside the session, so later changes to the
    instance are not saved; a query sees the row like any other. Foreign keys are taken as ids,
    not through relationships.
    """
    table: Table = row.__table__  # type: ignore[attr-defined]
    connection = _connection(session)
    values = _insert_values(row)
    row.id = next_id(connection, table.name)  # type: ignore[attr-defined]
    if row.id is None:  # type: ignore[attr-defined]
        row.id = _run(session, _insert(table), values)[0][0]  # type: ignore[attr-defined]
    else:
        _write(connection, _insert(table, with_id=True), {**values, "id": row.id})  # type: ignore[attr-defined]
    return row


def _insert_values(row: Base) -> dict[str, Any]:
    """The row's values by column, its columns' defaults where it has none (set on the row too)."""
    state = inspect(row).dict
    values = {}
    for attribute, column in _columns(type(row)):
        values[column.key] = state[attribute] if attribute in state else _default(column)
        state.setdefault(attribute, values[column.key])
    return values


def add_row(session: Session, row: Row) -> Row:
    """Write `row` now, as `insert_row` does, then keep it in the session as if it had been loaded:
    later changes to it are saved as usual (in a flush)."""
    insert_row(session, row)
    make_transient_to_detached(row)
    session.add(row)
    return row


def update_row(session: Session, row: Base, *attributes: str) -> None:
    """Write the named attributes of a row `insert_row` wrote (and the session does not track), by its id."""
    _write(_connection(session), *_update_of(row, attributes))


def scalar(session: Session, statement: Executable, **params: Any) -> Any:
    """The first column of the first row a SELECT returns, or None. Only for results that need no
    conversion on the way back (counts, ids, plain strings): no column type processes them."""
    found = _run(session, statement, params)
    return found[0][0] if found else None


def first(session: Session, statement: Executable, **params: Any) -> tuple[Any, ...] | None:
    """The first row a SELECT returns (with the same proviso as `scalar`)."""
    found = _run(session, statement, params)
    return found[0] if found else None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # the parameters' order, for drivers that take them by position
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    fixed: dict[str, Any]  # values the statement itself carries (a LIMIT, a literal)


def _run(session: Session, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """The rows the statement returns (none for a write without RETURNING)."""
    connection = _connection(session)
    if statement.is_dml:
        wrote(connection)
    return send(connection, _statement(connection.dialect, statement, params))


def _write(connection: Connection, statement: Executable, params: dict[str, Any]) -> None:
    """A write whose result nobody reads: held back to share a round trip where the connection allows it."""
    wrote(connection)
    hold(connection, _statement(connection.dialect, statement, params))


def _statement(dialect: Dialect, statement: Executable, params: dict[str, Any]) -> tuple[str, Any]:
    """The SQL and the arguments the driver takes for it."""
    compiled = _compile(statement, dialect)
    values = {**compiled.fixed, **params}
    for name, process in compiled.processors:
        values[name] = process(values[name])
    arguments = tuple(values[name] for name in compiled.positions) if compiled.positions is not None else values
    return compiled.sql, arguments


def _update_of(row: Base, attributes: tuple[str, ...]) -> tuple[Executable, dict[str, Any]]:
    table: Table = row.__table__  # type: ignore[assignment]
    values = {column.key: getattr(row, attribute) for attribute, column in _columns(type(row)) if attribute in attributes}
    return _update(table, tuple(values)), {**values, "row_id": row.id}  # type: ignore[attr-defined]


def _connection(session: Session) -> Connection:
    """The session's connection, asked of the session once per transaction or savepoint (asking
    costs more than running a small statement; the first time begins the savepoint)."""
    current = (session.get_transaction(), session.get_nested_transaction())
    known = session.info.get("rows.connection")
    if known is None or known[0] != current:
        known = session.info["rows.connection"] = (current, session.connection())
    return known[1]


@cache
def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if "POSTCOMPILE" in compiled.string:
        raise ValueError("an expanding parameter (IN) is compiled at each execution: run it through the session")
    processors = []
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((name, process))
    positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    fixed = {name: bind.value for name, bind in compiled.binds.items() if bind.value is not None}
    return _Compiled(compiled.string, positions, tuple(processors), fixed)


@cache
def _columns(model: type[Base]) -> tuple[tuple[str, Column[Any]], ...]:
    """(attribute, column) for each column the model maps, but its generated id."""
    return tuple((attribute.key, attribute.columns[0]) for attribute in inspect(model).column_attrs
                 if attribute.key != "id")


def _default(column: Column[Any]) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined,operator]


@cache
def _insert(table: Table, with_id: bool = False) -> Executable:
    """An INSERT that returns the id the database gives the row, or (`with_id`) takes one drawn beforehand."""
    columns = [column for column in table.columns if with_id or column.key != "id"]
    insert = table.insert().values({c.key: bindparam(c.key, type_=c.type) for c in columns})
    return insert if with_id else insert.returning(table.c.id)


@cache
def _update(table: Table, columns: tuple[str, ...]) -> Executable:
    return table.update().where(table.c.id == bindparam("row_id")).values(
        {name: bindparam(name, type_=table.c[name].type) for name in columns})
