"""pytest fixtures for the real test servers (loaded by tests/conftest.py).

`smtp_sink`, `imap_server`, `imap_account`, `pg_server`, `database_url`.
Missing Dovecot or PostgreSQL binaries fail the tests that need them. A run stopped by
SIGTERM (a time limit, CI) ends as Ctrl-C does, so the servers stop and their files go;
if it is killed outright, the servers stop by themselves (`tests.harness.dies_with_parent`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from tests.harness.dovecot import Dovecot, ImapAccount, dovecot_available
from tests.harness.postgres import Postgres, missing_message, postgres_available
from tests.harness.smtpsink import SmtpSink

INSTALL_HINT = "run `bash scripts/install-test-servers`"


def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM: unwind like Ctrl-C, so pytest tears the fixtures (and their servers) down."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("stopped by SIGTERM")


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def imap_server() -> Iterator[Dovecot]:
    if not dovecot_available():
        pytest.fail(f"Dovecot is not installed: {INSTALL_HINT}", pytrace=False)
    with Dovecot() as server:
        yield server


@pytest.fixture
def imap_account(imap_server: Dovecot) -> ImapAccount:
    return imap_server.account()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Postgres]:
    if not postgres_available():
        pytest.fail(missing_message(), pytrace=False)
    with Postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/unmentoring.sqlite3"
        return
    server: Postgres = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield url
    server.drop_database(url)
