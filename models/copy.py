"""Many rows into one table with PostgreSQL's COPY, each value through its column's own type (as an
INSERT would bind it), for bulk writes such as opening a round."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import Column, Connection, Table

from models.quiet import wrote


def copy_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Like an executemany INSERT of `rows` (all with the same keys); a column they leave out takes its
    scalar default. PostgreSQL only: one COPY instead of a round of INSERT messages per row."""
    if not rows:
        return
    columns = [c for c in table.columns if c.name in rows[0] or (c.default is not None and c.default.is_scalar)]
    writers = [_writer(connection, c, c.name in rows[0]) for c in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    wrote(connection)
    with connection.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([write(row) for write in writers])


def _writer(connection: Connection, column: Column[Any], given: bool) -> Callable[[dict[str, Any]], Any]:
    process = column.type.bind_processor(connection.dialect) or (lambda value: value)
    if given:
        return lambda row: process(row[column.name])
    default = process(column.default.arg)  # type: ignore[union-attr]
    return lambda row: default
