"""Engine, sessions and schema upgrades: the only place that knows which database we are on."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from models.held import driver_savepoints
from schema_head import MIGRATIONS, head_revision

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig



def make_engine(url: str, busy_seconds: float = 30) -> Engine:
    """An engine for a URL `database_url.usable` accepted; nothing is created or connected yet.
    `busy_seconds`: on SQLite, how long a write waits for another's lock before it is refused."""
    from models.quiet import track_writes

    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        engine = create_engine(url, connect_args={"timeout": busy_seconds})
        event.listen(engine, "connect", lambda dbapi_connection, _record: _sqlite_pragmas(dbapi_connection, busy_seconds))
        event.listen(engine, "begin", _sqlite_begin)
    driver_savepoints(engine.dialect)
    track_writes(engine)
    return engine


def create_private(path: Path) -> None:
    """Create the database file readable by its owner only, whatever the umask: it holds people's
    addresses. SQLite gives its journal, -wal and -shm files the database file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


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
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create the schema or bring it up to date (what `unmentoring init` runs); tests may stop at a `revision`.

    For SQLite this is the one step that creates the file (and its folder): commands that only
    read must not leave an empty database behind.
    """
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        create_private(Path(database))
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration. Every command asks, so the common answer
    comes without alembic (100-300 ms to import): yes, when the database's one revision is the head
    that the migration files name. Any other case, alembic decides."""
    head = head_revision()
    with engine.execution_options(read_only=True).connect() as conn:
        if head is not None and stored_revisions(conn) == [head]:
            return True
    return _is_current_by_alembic(engine)


def stored_revisions(conn: Connection) -> list[str]:
    """The revisions alembic recorded in the database; none before the first migration."""
    if not inspect(conn).has_table("alembic_version"):
        return []
    return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))


def _is_current_by_alembic(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.execution_options(read_only=True).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
