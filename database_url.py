"""Which database URLs the service can use, and the one form the engine is built from.

SQLite (a file) and PostgreSQL through psycopg 3 are the two databases installed and tested;
any other URL is refused here, before anything is created or connected, with one line
listing what works.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

ACCEPTED = ("sqlite:///path/to/file.sqlite3, postgresql://user@host/db or postgres://user@host/db "
            "(both use psycopg 3), or leave it empty for SQLite in service.data_dir")
POSTGRES = "postgresql+psycopg"
SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
POSTGRES_DRIVERS = ("postgres", "postgresql", POSTGRES)
URL_PARTS = re.compile(
    r"(?P<scheme>[\w+]+)://"
    r"(?:[^:/]*(?::[^@]*)?@)?"
    r"(?:(?:\[[^/?]+\]|[^/:?]+)?(?::(?P<port>[^/?]*))?)?"
    r"(?:/(?P<database>[^?]*))?"
    r"(?:\?(?P<query>.*))?\Z", re.DOTALL)
"""The parts of a database URL as SQLAlchemy's `make_url` splits them (a test keeps the two in step).
Read here with the standard library: settings are loaded by every command, and importing
SQLAlchemy (0.3-0.4 s) for this alone would be most of an idle `tick`."""


class DatabaseUrlError(ValueError):
    """The URL names a database or driver the service cannot use; the message says which it can."""


@dataclass(frozen=True)
class Parts:
    scheme: str
    rest: str
    database: str | None
    query: str | None


def usable(url: str, base: Path) -> str:
    """The URL to build the engine from: PostgreSQL through psycopg 3, SQLite as an absolute path
    (a relative one is taken from `base`, the config file's folder, as data_dir is).

    The message of the error never repeats the URL, which may hold a password.
    """
    parts = _parts(url.strip())
    if parts is None:
        raise DatabaseUrlError(f"not a database URL; use {ACCEPTED}")
    if parts.scheme in POSTGRES_DRIVERS:
        return f"{POSTGRES}://{parts.rest}"
    if parts.scheme in SQLITE_DRIVERS:
        return _sqlite(parts, base)
    raise DatabaseUrlError(f"{parts.scheme}:// is not a database the service can use; use {ACCEPTED}")


def _parts(url: str) -> Parts | None:
    found = URL_PARTS.match(url)
    if found is None or (found["port"] is not None and not found["port"].isdigit()):
        return None
    database = unquote(found["database"]) if found["database"] is not None else None
    return Parts(found["scheme"], url[len(found["scheme"]) + 3:], database or None, found["query"])


def _sqlite(parts: Parts, base: Path) -> str:
    if not parts.database or parts.database == ":memory:" or parts.database.startswith("file:"):
        raise DatabaseUrlError(f"SQLite needs a file: use {ACCEPTED}")
    path = (base / parts.database).resolve()
    return f"sqlite:///{path}" + (f"?{parts.query}" if parts.query else "")


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL (None for PostgreSQL)."""
    parts = _parts(url)
    if parts is None or parts.scheme not in SQLITE_DRIVERS or not parts.database:
        return None
    return Path(parts.database)


def libpq_url(url: str) -> str | None:
    """A PostgreSQL URL as libpq (psycopg's `connect`) reads it; None for SQLite."""
    prefix = f"{POSTGRES}://"
    return "postgresql://" + url[len(prefix):] if url.startswith(prefix) else None
