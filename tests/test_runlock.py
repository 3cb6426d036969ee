"""One run at a time, and a killed run never leaves the lock stuck."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import text

from models.db import make_engine, upgrade
from runlock import exclusive
from tests.app import Service
from tests.mail import incoming

HOLDER = textwrap.dedent("""
    import sys, time
    import config
    from models.db import make_engine
    from runlock import exclusive
    settings = config.load(sys.argv[1], env={})
    with exclusive(settings.data_path, make_engine(settings.database_url)):
        print("holding", flush=True)
        time.sleep(60)
""")


@contextmanager
def holding(config: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the run lock for `config`, killed on leaving."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(config)], stdout=subprocess.PIPE,
                              text=True, cwd=os.getcwd())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait(10)


def test_a_second_run_waits_and_a_killed_holder_frees_the_lock(service: Service) -> None:
    with holding(service.path) as holder:
        service.imap.deliver(incoming("ann@a.org", "JOIN"))
        assert "in progress; nothing done" in service.tick().output
        assert len(service.imap.fetch_all("INBOX")) == 1 and service.smtp.messages == []
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert "1 seen, 1 handled" in service.tick().output
        assert len(service.smtp.wait_for(1)) == 1


def test_another_configuration_on_the_same_database_waits_too(service: Service, tmp_path: Path) -> None:
    """A second config file with its own data folder (so its own lock file there) but the same
    database: the lock beside the SQLite file, or PostgreSQL's advisory lock, still stops it."""
    other = tmp_path / "other.toml"
    other.write_text(service.path.read_text().replace(str(tmp_path / "data"), str(tmp_path / "other-data")))
    assert str(tmp_path / "other-data") in other.read_text()
    with holding(other):
        service.imap.deliver(incoming("ann@a.org", "JOIN"))
        assert "nothing done" in service.tick().output
        assert len(service.imap.fetch_all("INBOX")) == 1 and service.smtp.messages == []
    assert "1 seen, 1 handled" in service.tick().output


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_the_database_its_journals_and_the_locks_are_readable_by_their_owner_only(database_url: str,
                                                                                 tmp_path: Path) -> None:
    """They hold (or sit beside) people's addresses: a usual umask of 022 would let every local user read them."""
    with umask(0o022):
        engine = make_engine(database_url)
        upgrade(engine)
        with exclusive(tmp_path / "data", engine), engine.begin() as conn:
            conn.execute(text("CREATE TABLE wal_check (x INTEGER)"))
            modes = file_modes(tmp_path)  # -wal and -shm exist while a connection is open
        engine.dispose()
        if engine.dialect.name == "sqlite":
            with closing(sqlite3.connect(str(engine.url.database))) as raw:
                raw.execute("PRAGMA journal_mode=PERSIST")  # the rollback journal stays after its transaction
                raw.execute("CREATE TABLE journal_check (x)")
            modes |= file_modes(tmp_path)
    expected = {"unmentoring.lock"}
    if engine.dialect.name == "sqlite":
        expected |= {"unmentoring.sqlite3", "unmentoring.sqlite3-wal", "unmentoring.sqlite3-shm",
                     "unmentoring.sqlite3-journal", "unmentoring.sqlite3.run-lock"}
    assert expected <= set(modes)
    assert modes == {name: "0o600" for name in modes}


def file_modes(folder: Path) -> dict[str, str]:
    return {p.name: oct(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_file()}
