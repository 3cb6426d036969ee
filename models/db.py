"""Engine, sessions and schema upgrades: the only place that knows which database we are on."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, busy_seconds: float = 30) -> Engine:
    """`busy_seconds`: on SQLite, how long a write waits for another's lock before it is refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_seconds})
    event.listen(engine, "connect", lambda dbapi_connection, _record: _sqlite_pragmas(dbapi_connection, busy_seconds))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, busy_seconds: float) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Take SQLite's write lock at BEGIN so two writers queue instead of failing mid-transaction.

    Readers (see `reading`) begin without it: in WAL mode they see the last commit
    and never wait for a writer, such as a round being opened for minutes.
    """
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def reading(engine: Engine) -> sessionmaker[Session]:
    """Sessions for commands that only look (status, show, list, preview, report).

    On SQLite they do not queue behind a running `tick`. They take no write lock up
    front, so a write through one could be refused half-way: change things through `sessions`.
    """
    return sessionmaker(engine.execution_options(read_only=True), expire_on_commit=False)


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Create the schema or bring it up to date (what `unmentoring init` runs)."""
    command.upgrade(_alembic_config(engine), "head")


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.execution_options(read_only=True).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
