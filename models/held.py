"""Savepoints on the driver's cursor, and on the poller's PostgreSQL connection, writes held back
to share one round trip.

SQLAlchemy names each savepoint anew, so it compiled each SAVEPOINT and RELEASE as a new
statement: with a savepoint per message, about a tenth of the poller's time. `driver_savepoints`
has the engine run them on the driver's cursor instead.

On PostgreSQL every statement is a round trip to the server, and a message's handling wrote
five or six rows, one after another, none of whose answers it read. On a connection the poller
`hold_back`s, a write that returns nothing (`hold`) and each savepoint command wait for the next
statement that must be answered; they then travel with it, in one round trip (psycopg's
pipeline mode: the statements keep their parameters and stay prepared on the server). A
message's writes are sent at the latest with its savepoint's RELEASE, so a write the database
refuses fails that message's savepoint, as it would have done at once (nothing in handling
catches a database error; the poller retries or quarantines the whole message). A row's id
comes from its sequence, drawn ahead in blocks (`next_id`), so that an INSERT need not return
it. Nothing is reordered: whatever else runs first (ours, SQLAlchemy's) sends what is held
before itself, and a commit sends it before committing.

Binding the values on the client instead, and sending the statements as one query string, was
measured too: a little less work for us, more than twice the server's (it parses each
statement, and the text of each value, afresh) (docs/benchmarks.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, event, exc
from sqlalchemy.engine import Dialect

Statement = tuple[str, Any]  # SQL and its arguments as the driver takes them (None: none)

FIRST_BLOCK, LARGEST_BLOCK = 16, 256  # ids drawn at a time: small for a run of a few messages


@dataclass
class _Held:
    statements: list[Statement] = field(default_factory=list)
    writes: bool = False  # any but savepoint commands
    ids: dict[str, list[int]] = field(default_factory=dict)  # drawn, not yet used, by table
    block: dict[str, int] = field(default_factory=dict)  # how many to draw next, by table


_HELD: WeakKeyDictionary[Connection, _Held] = WeakKeyDictionary()


def driver_savepoints(dialect: Dialect) -> None:
    dialect.do_savepoint = _savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = _release  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = _rollback_to  # type: ignore[method-assign]


def hold_back(connection: Connection) -> None:
    """Hold writes and savepoint commands back on this connection from now on (PostgreSQL; see the module's docstring)."""
    if connection.dialect.name == "postgresql":
        _HELD[connection] = _Held()
        event.listen(connection, "before_cursor_execute", lambda conn, *_: _flush(conn))
        event.listen(connection, "commit", _before_commit)
        event.listen(connection, "rollback", _drop)


def send(connection: Connection, statement: Statement) -> list[Any]:
    """Run a statement (with what is held, in one round trip); the rows it returns."""
    held = _HELD.get(connection)
    return _driver(connection, [*(_take(held) if held else []), statement])


def hold(connection: Connection, statement: Statement) -> None:
    """Run a write whose result nobody reads: held back on a connection that holds, at once elsewhere."""
    held = _HELD.get(connection)
    if held is None:
        _driver(connection, [statement])
        return
    held.statements.append(statement)
    held.writes = True


def next_id(connection: Connection, table: str) -> int | None:
    """An id for a new row of `table` from its sequence, on a connection that holds (else None: the
    INSERT returns it)."""
    held = _HELD.get(connection)
    if held is None:
        return None
    ids = held.ids.setdefault(table, [])
    if not ids:
        count = held.block.get(table, FIRST_BLOCK)
        held.block[table] = min(count * 2, LARGEST_BLOCK)
        drawn = send(connection, ("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                                  (table, count)))
        ids.extend(row[0] for row in reversed(drawn))
    return ids.pop()


def _flush(connection: Connection) -> None:
    held = _HELD.get(connection)
    if held is not None and held.statements:
        _driver(connection, _take(held))


def _before_commit(connection: Connection) -> None:
    """Held writes go before the commit; savepoint commands alone are dropped (the commit ends every savepoint)."""
    held = _HELD.get(connection)
    if held is not None and held.writes:
        _flush(connection)
    else:
        _drop(connection)


def _drop(connection: Connection) -> None:
    held = _HELD.get(connection)
    if held is not None:
        _take(held)


def _take(held: _Held) -> list[Statement]:
    statements = held.statements[:]
    held.statements.clear()
    held.writes = False
    return statements


def _savepoint(connection: Connection, name: str) -> None:
    held = _HELD.get(connection)
    if held is not None:
        held.statements.append((f"SAVEPOINT {name}", None))
    else:
        _driver(connection, [(f"SAVEPOINT {name}", None)])


def _release(connection: Connection, name: str) -> None:
    """Held like a savepoint; held writes go first, inside the savepoint they belong to. If the database
    refuses one, the savepoint is rolled back here: SQLAlchemy counts it as ended once its RELEASE fails."""
    held = _HELD.get(connection)
    if held is None:
        _driver(connection, [(f"RELEASE SAVEPOINT {name}", None)])
        return
    if held.writes:
        try:
            _flush(connection)
        except exc.DBAPIError:
            _driver(connection, [(f"ROLLBACK TO SAVEPOINT {name}", None), (f"RELEASE SAVEPOINT {name}", None)])
            raise
    held.statements.append((f"RELEASE SAVEPOINT {name}", None))


def _rollback_to(connection: Connection, name: str) -> None:
    """What is held inside the savepoint is dropped (the rollback would undo it); what came before is sent first."""
    held = _HELD.get(connection)
    kept: list[Statement] = []
    if held is not None:
        statements = _take(held)
        begun = (f"SAVEPOINT {name}", None)
        if begun in statements:
            kept = statements[:len(statements) - statements[::-1].index(begun)]
    _driver(connection, [*kept, (f"ROLLBACK TO SAVEPOINT {name}", None)])


def _driver(connection: Connection, statements: list[Statement]) -> list[Any]:
    """Run statements on the driver's cursor, several in one round trip; the rows the last returns.
    A driver error is raised as SQLAlchemy's own."""
    dialect = connection.dialect
    driver = connection.connection.dbapi_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    sql, arguments = statements[-1]
    try:
        if len(statements) == 1:
            _execute(cursor, statements[0])
        else:
            with driver.pipeline():  # type: ignore[union-attr]
                for sql, arguments in statements:
                    _execute(cursor, (sql, arguments))
        return cursor.fetchall() if cursor.description else []
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _execute(cursor: Any, statement: Statement) -> None:
    sql, arguments = statement
    if arguments is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, arguments)
