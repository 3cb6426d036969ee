"""One run at a time: a lock the kernel (or PostgreSQL) drops the moment its holder dies.

A file lock (flock) on the data directory, and one beside an SQLite database file,
cover one machine; on PostgreSQL an advisory lock on a held connection also covers runs
from several machines.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from sqlalchemy import Engine

ADVISORY_KEY = 0x756E6D74  # "unmt"


class Busy(Exception):
    """Another run holds the lock."""


@contextmanager
def exclusive(data_dir: Path, engine: Engine) -> Iterator[None]:
    """Raises Busy at once, never waits: cron will start another run soon enough."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        for path in _lock_files(data_dir, engine):
            held.enter_context(_flock(path))
        held.enter_context(_advisory(engine))
        yield


def _lock_files(data_dir: Path, engine: Engine) -> list[Path]:
    """The data folder's lock, and for an SQLite file one beside it: two configurations with
    different data folders but the same database file must not run at once either."""
    paths = [data_dir / "unmentoring.lock"]
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        paths.append(Path(database).resolve().with_name(Path(database).name + ".run-lock"))
    return paths


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+") as handle:  # owner only, whatever the umask
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("another unmentoring run is in progress") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield
        return
    from sqlalchemy import text

    with engine.connect() as conn:
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}):
            raise Busy("another unmentoring run holds the database lock")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
