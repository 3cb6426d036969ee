"""Which database URLs the service can use, and the one form the engine is built from.

SQLite (a file) and PostgreSQL through psycopg 3 are the two databases installed and tested;
any other URL is refused here, before anything is created or connected, with one line
listing what works.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

ACCEPTED = ("sqlite:///path/to/file.sqlite3, postgresql://user@host/db or postgres://user@host/db "
            "(both use psycopg 3), or leave it empty for SQLite in service.data_dir")
POSTGRES = "postgresql+psycopg"
SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
POSTGRES_DRIVERS = ("postgres", "postgresql", POSTGRES)


class DatabaseUrlError(ValueError):
    """The URL names a database or driver the service cannot use; the message says which it can."""


def usable(url: str, base: Path) -> str:
    """The URL to build the engine from: PostgreSQL through psycopg 3, SQLite as an absolute path
    (a relative one is taken from `base`, the config file's folder, as data_dir is).

    The message of the error never repeats the URL, which may hold a password.
    """
    from sqlalchemy.engine import make_url  # SQLAlchemy: only once settings are loaded, not for --help
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        raise DatabaseUrlError(f"not a database URL; use {ACCEPTED}") from None
    if parsed.drivername in POSTGRES_DRIVERS:
        return parsed.set(drivername=POSTGRES).render_as_string(hide_password=False)
    if parsed.drivername in SQLITE_DRIVERS:
        return _sqlite(parsed, base)
    raise DatabaseUrlError(f"{parsed.drivername}:// is not a database the service can use; use {ACCEPTED}")


def _sqlite(parsed: URL, base: Path) -> str:
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        raise DatabaseUrlError(f"SQLite needs a file: use {ACCEPTED}")
    path = (base / parsed.database).resolve()
    return parsed.set(drivername="sqlite", database=str(path)).render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL (None for PostgreSQL)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return Path(parsed.database) if parsed.drivername in SQLITE_DRIVERS and parsed.database else None
