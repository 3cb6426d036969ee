"""Savepoints on the driver's cursor, and on PostgreSQL a RELEASE sent with the next savepoint command.

SQLAlchemy names each savepoint anew, so it compiled each SAVEPOINT and RELEASE as a new
statement: with a savepoint per message, about a tenth of the poller's time. `driver_savepoints`
has the engine run them on the driver's cursor instead.

On PostgreSQL each statement is a round trip to the server. On a connection the poller
`hold_back`s, a RELEASE waits for the next statement: the next message's SAVEPOINT goes with
it in one round trip (statements without parameters can share one query). Whatever else runs
first (ours, SQLAlchemy's) sends it before itself; a commit or a rollback of the whole
transaction ends every savepoint anyway, so it is then dropped. Nothing is reordered, and a
RELEASE cannot fail on its own (only in a transaction some earlier statement already broke,
whose error was raised then). psycopg's pipeline mode, which could also hold back statements
with parameters, was measured and is slower here: its bookkeeping costs more than a round
trip on the same machine (docs/benchmarks.md).
"""
from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, event, exc
from sqlalchemy.engine import Dialect

Statement = tuple[str, Any]  # SQL and its arguments as the driver takes them (None: none)

_HELD: WeakKeyDictionary[Connection, list[str]] = WeakKeyDictionary()


def driver_savepoints(dialect: Dialect) -> None:
    dialect.do_savepoint = _savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = _release  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = _rollback_to  # type: ignore[method-assign]


def hold_back(connection: Connection) -> None:
    """Hold each RELEASE back on this connection from now on (PostgreSQL: see the module's docstring)."""
    if connection.dialect.name == "postgresql":
        _HELD[connection] = []
        event.listen(connection, "before_cursor_execute", lambda conn, *_: _flush(conn))
        event.listen(connection, "commit", _drop)
        event.listen(connection, "rollback", _drop)


def send(connection: Connection, statement: Statement) -> list[Any]:
    """Run a statement (after what is held); the rows it returns."""
    _flush(connection)
    return _driver(connection, statement)


def _flush(connection: Connection) -> None:
    held = _HELD.get(connection)
    if held:
        _driver(connection, ("; ".join(_take(held)), None))


def _drop(connection: Connection) -> None:
    held = _HELD.get(connection)
    if held:
        _take(held)


def _take(held: list[str]) -> list[str]:
    statements = held[:]
    held.clear()
    return statements


def _savepoint(connection: Connection, name: str) -> None:
    _with_held(connection, f"SAVEPOINT {name}")


def _release(connection: Connection, name: str) -> None:
    held = _HELD.get(connection)
    if held is not None:
        held.append(f"RELEASE SAVEPOINT {name}")
    else:
        _with_held(connection, f"RELEASE SAVEPOINT {name}")


def _rollback_to(connection: Connection, name: str) -> None:
    _with_held(connection, f"ROLLBACK TO SAVEPOINT {name}")


def _with_held(connection: Connection, sql: str) -> None:
    """A statement without parameters, in one query with what is held."""
    held = _HELD.get(connection)
    _driver(connection, ("; ".join([*_take(held), sql]) if held else sql, None))


def _driver(connection: Connection, statement: Statement) -> list[Any]:
    """Run a statement on the driver's cursor; the rows it returns. A driver error is raised as SQLAlchemy's own."""
    dialect = connection.dialect
    sql, arguments = statement
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if arguments is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, arguments)
        return cursor.fetchall() if cursor.description else []
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
