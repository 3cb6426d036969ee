"""Savepoints on the driver's cursor, and statements held back to share a round trip (PostgreSQL).

SQLAlchemy names each savepoint anew, so it compiled each SAVEPOINT and RELEASE as a new
statement: with a savepoint per message, about a tenth of the poller's time. `driver_savepoints`
has the engine run them on the driver's cursor instead.

On PostgreSQL each statement is a round trip to the server. On a connection the poller
`hold_back`s, a SAVEPOINT and the writes whose result nobody needs (`later`) are kept until
the next statement must go, then sent with it in one round trip (psycopg's pipeline mode):
a message's SAVEPOINT goes with its first statement, its record's outcome with its RELEASE.
Nothing is reordered: whatever runs next (our statements, SQLAlchemy's, a commit) sends what
is held first, so every query sees every write before it. An error in a held statement is
raised by the statement it went with, in the same savepoint, which is then rolled back as usual.
A savepoint in which nothing was sent is neither sent nor released. Elsewhere (SQLite, other
connections) each statement runs at once.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, event, exc
from sqlalchemy.engine import Dialect

Statement = tuple[str, Any]  # SQL and its arguments as the driver takes them (None: none)


@dataclass
class _Savepoint:
    name: str
    held: bool  # its SAVEPOINT is still held, not sent
    mark: int  # the length of the held queue just after it began


@dataclass
class _Held:
    queue: list[Statement] = field(default_factory=list)
    savepoints: list[_Savepoint] = field(default_factory=list)


_HELD: WeakKeyDictionary[Connection, _Held] = WeakKeyDictionary()


def driver_savepoints(dialect: Dialect) -> None:
    dialect.do_savepoint = _savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = _release  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = _rollback_to  # type: ignore[method-assign]


def hold_back(connection: Connection) -> None:
    """Hold statements back on this connection from now on, if its driver can send several at once."""
    if hasattr(connection.connection.dbapi_connection, "pipeline"):
        _HELD[connection] = _Held()
        event.listen(connection, "before_cursor_execute", lambda conn, *_: _flush(conn))
        event.listen(connection, "commit", _flush)
        event.listen(connection, "rollback", _forget)


def later(connection: Connection, statement: Statement) -> bool:
    """Hold a write back, to go with the next statement; False (not held) if the connection does not hold back."""
    held = _HELD.get(connection)
    if held is None:
        return False
    held.queue.append(statement)
    return True


def send(connection: Connection, statement: Statement) -> list[Any]:
    """Run a statement, with what is held before it; the rows it returns."""
    held = _HELD.get(connection)
    return _driver(connection, _take(held) if held else [], statement)


def _forget(connection: Connection) -> None:
    """A rollback of the whole transaction ends every savepoint and undoes every write."""
    _HELD[connection] = _Held()


def _flush(connection: Connection) -> None:
    held = _HELD.get(connection)
    if held and held.queue:
        statements = _take(held)
        _driver(connection, statements[:-1], statements[-1])


def _take(held: _Held) -> list[Statement]:
    statements, held.queue = held.queue, []
    for savepoint in held.savepoints:
        savepoint.held, savepoint.mark = False, 0
    return statements


def _savepoint(connection: Connection, name: str) -> None:
    held = _HELD.get(connection)
    if held is None:
        _driver(connection, [], (f"SAVEPOINT {name}", None))
        return
    held.queue.append((f"SAVEPOINT {name}", None))
    held.savepoints.append(_Savepoint(name, True, len(held.queue)))


def _release(connection: Connection, name: str) -> None:
    """RELEASE, with what is held. If that fails, the savepoint is rolled back here: SQLAlchemy takes a
    savepoint whose release failed for gone and would not."""
    held = _HELD.get(connection)
    savepoint = _ended(held, name)
    if held is not None and savepoint is not None and savepoint.held and len(held.queue) == savepoint.mark:
        del held.queue[savepoint.mark - 1:]  # nothing was sent in it
        return
    try:
        _driver(connection, _take(held) if held else [], (f"RELEASE SAVEPOINT {name}", None))
    except exc.DBAPIError:
        try:
            _driver(connection, [], (f"ROLLBACK TO SAVEPOINT {name}", None))
        except exc.DBAPIError:
            pass  # the connection itself failed: the first error says more
        raise


def _rollback_to(connection: Connection, name: str) -> None:
    held = _HELD.get(connection)
    savepoint = _ended(held, name)
    if held is not None and savepoint is not None:
        del held.queue[savepoint.mark - 1 if savepoint.held else savepoint.mark:]
        if savepoint.held:
            return  # nothing was sent in it
    _driver(connection, [], (f"ROLLBACK TO SAVEPOINT {name}", None))


def _ended(held: _Held | None, name: str) -> _Savepoint | None:
    """Forget this savepoint (and any left open inside it)."""
    if held is None:
        return None
    for at in range(len(held.savepoints) - 1, -1, -1):
        if held.savepoints[at].name == name:
            savepoint = held.savepoints[at]
            del held.savepoints[at:]
            return savepoint
    return None


def _driver(connection: Connection, before: list[Statement], statement: Statement) -> list[Any]:
    """Run `before` then `statement` on the driver's cursor, in one round trip if there are several;
    the rows `statement` returns. A driver error is raised as SQLAlchemy's own."""
    dialect = connection.dialect
    dbapi_connection: Any = connection.connection.dbapi_connection
    sql, arguments = statement
    cursor, held = dbapi_connection.cursor(), dbapi_connection.cursor() if before else None
    try:
        with dbapi_connection.pipeline() if before else nullcontext():
            for held_sql, held_arguments in before:
                _execute(held, held_sql, held_arguments)
            _execute(cursor, sql, arguments)
        return cursor.fetchall() if cursor.description else []
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
        if held is not None:
            held.close()


def _execute(cursor: Any, sql: str, arguments: Any) -> None:
    if arguments is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, arguments)
