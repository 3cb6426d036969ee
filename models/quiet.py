"""Until when a `tick` has nothing to do, and every write that may change that.

A full `tick` ends by working out the first instant at which anything could fall due with no new
mail, command or setting (rounds/next_due.py) and writes it in the one row of `quiet`. Until then,
cron's ticks only look whether mail came in (quiet.py), with the standard library and the database
driver: no SQLAlchemy, no templates, no handlers.

That is safe only if every other change clears the row. So every transaction that writes,
whatever it writes and whoever runs it (a command, a poller, a script), adds one statement
before its commit: the generation goes up and the time is dropped. A tick writes its time only
if the generation it read in the same transaction is still the current one, so a change
committed while it was working out the time is never hidden.
"""
from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import BigInteger, Connection, Engine, String, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

ROW = 1
UNTRACKED = "unmentoring_untracked"
"""Execution option: this connection's writes do not clear the row (migrations; the tick writing it)."""
FLAG = "unmentoring_wrote"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COPY", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE")
FORGET = f"UPDATE quiet SET generation = generation + 1, until_at = NULL WHERE id = {ROW}"
HAS_TABLE = {"sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'quiet'",
             "postgresql": "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'quiet' "
                           "AND schemaname = ANY (current_schemas(false))"}
_has_table: WeakKeyDictionary[Any, bool] = WeakKeyDictionary()
"""Per pool (an engine and the engines derived from it): whether the schema has the row yet. Asked
once; a migration forgets the answer (`schema_changed`). Only a database older than the code lacks
it, which the commands refuse, but upgrade tests and the migrations themselves write to one."""


class Quiet(Base):
    """One row. Times are whole seconds since 1970 (UTC), so the quiet check compares plain numbers."""

    __tablename__ = "quiet"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    until_at: Mapped[int | None] = mapped_column(BigInteger)
    checked_at: Mapped[int | None] = mapped_column(BigInteger)
    settings_key: Mapped[str | None] = mapped_column(String(64))


def track_writes(engine: Engine) -> None:
    """Make every committed write through `engine` clear the quiet row, in its own transaction."""
    event.listen(engine, "after_cursor_execute", _seen)
    event.listen(engine, "commit", _before_commit)
    event.listen(engine, "rollback", _forget_flag)


def wrote(connection: Connection) -> None:
    """For writes made on the driver's cursor, which SQLAlchemy's events do not see (models/rows.py, COPY)."""
    connection.info[FLAG] = True


def _seen(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.lstrip()[:8].upper().startswith(WRITES):
        connection.info[FLAG] = True


def _before_commit(connection: Connection) -> None:
    if not connection.info.pop(FLAG, False) or connection.get_execution_options().get(UNTRACKED):
        return
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        pool = connection.engine.pool
        if pool not in _has_table:
            cursor.execute(HAS_TABLE[connection.dialect.name])
            _has_table[pool] = cursor.fetchone()[0] > 0
        if _has_table[pool]:
            cursor.execute(FORGET)
    finally:
        cursor.close()


def schema_changed(engine: Engine) -> None:
    _has_table.pop(engine.pool, None)


def _forget_flag(connection: Connection) -> None:
    connection.info.pop(FLAG, None)
