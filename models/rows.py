"""Rows written at once with one statement on their model's own table, without the ORM's unit of work.

A flush sorts, batches and tracks every pending object: for one new row that costs about ten
times the INSERT itself, and the poller writes three or four rows a message
(docs/benchmarks.md). The model still describes the row: it is built with the model's
constructor and written through the table's columns, so column types (bounded text, UTC
datetimes) and column defaults apply as they would in a flush.
"""
from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Insert, Table, Update, bindparam, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from models.base import Base

Row = TypeVar("Row", bound=Base)


def insert_row(session: Session, row: Row) -> Row:
    """Write `row`, a new model instance, in the session's transaction now, and set its id.

    For rows a transaction adds and then leaves alone (audit events; the inbound record, whose
    outcome `update_row` writes): the row stays outside the session, so later changes to the
    instance are not saved; a query sees the row like any other. Foreign keys are taken as ids,
    not through relationships.
    """
    _write(session, row)
    return row


def add_row(session: Session, row: Row) -> Row:
    """Write `row` now, as `insert_row` does, then keep it in the session as if it had been loaded:
    later changes to it are saved as usual. The column defaults the INSERT used are set on it."""
    written = _write(session, row).last_inserted_params()
    state = inspect(row).dict
    for attribute, column in _columns(type(row)):
        if attribute not in state:
            setattr(row, attribute, written.get(column))
    make_transient_to_detached(row)
    session.add(row)
    return row


def _write(session: Session, row: Base) -> CursorResult[Any]:
    table: Table = row.__table__  # type: ignore[assignment]
    state = inspect(row).dict
    values = {column: state[attribute] for attribute, column in _columns(type(row)) if attribute in state}
    result = session.connection().execute(_insert(table), values)
    row.id = result.inserted_primary_key[0]  # type: ignore[attr-defined]
    return result


def update_row(session: Session, row: Base, *attributes: str) -> None:
    """Write the named attributes of a row `insert_row` wrote (and the session does not track), by its id."""
    table: Table = row.__table__  # type: ignore[assignment]
    values = {column: getattr(row, attribute) for attribute, column in _columns(type(row)) if attribute in attributes}
    session.connection().execute(_update(table), {**values, "row_id": row.id})  # type: ignore[attr-defined]


@cache
def _columns(model: type[Base]) -> tuple[tuple[str, str], ...]:
    """(attribute, column) for each column the model maps."""
    return tuple((attribute.key, attribute.columns[0].key) for attribute in inspect(model).column_attrs)


@cache
def _insert(table: Table) -> Insert:
    """Statements built once: SQLAlchemy caches their compiled form (per set of columns given)."""
    return table.insert()


@cache
def _update(table: Table) -> Update:
    return table.update().where(table.c.id == bindparam("row_id"))
