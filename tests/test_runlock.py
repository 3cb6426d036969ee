"""One run at a time, and a killed run never leaves the lock stuck."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
