"""Many rows into one table in one go, each value through its column's own type (as an INSERT would
bind it), for bulk writes such as opening a round: PostgreSQL's COPY, or one DB-API executemany on
SQLite, without SQLAlchemy's work for each row."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import Column, Connection, Table

from models.quiet import wrote


def copy_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Like an executemany INSERT of `rows` (all with the same keys); a column they leave out takes its
    scalar default. PostgreSQL only: one COPY instead of a round of INSERT messages per row."""
    if not rows:
        return
    columns, writers = _columns(connection, table, rows[0])
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    wrote(connection)
    with connection.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([write(row) for write in writers])


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """`copy_rows` for SQLite: one executemany on the driver's cursor, the values bound as
    SQLAlchemy binds them (about a third of the writer's time was SQLAlchemy's own, row by row)."""
    if not rows:
        return
    columns, writers = _columns(connection, table, rows[0])
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    wrote(connection)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})",
                           [tuple(write(row) for write in writers) for row in rows])
    finally:
        cursor.close()


def _columns(connection: Connection, table: Table, row: dict[str, Any]) -> tuple[list[Column[Any]], list[Callable[[dict[str, Any]], Any]]]:
    columns = [c for c in table.columns if c.name in row or (c.default is not None and c.default.is_scalar)]
    return columns, [_writer(connection, c, c.name in row) for c in columns]


def _writer(connection: Connection, column: Column[Any], given: bool) -> Callable[[dict[str, Any]], Any]:
    process = column.type.bind_processor(connection.dialect) or (lambda value: value)
    if given:
        return lambda row: process(row[column.name])
    default = process(column.default.arg)  # type: ignore[union-attr]
    return lambda row: default
