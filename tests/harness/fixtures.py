"""pytest fixtures for the real test servers (loaded by tests/conftest.py).

`smtp_sink`, `imap_server`, `imap_account`, `pg_server`, `database_url`.
Missing Dovecot or PostgreSQL binaries fail the tests that need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.dovecot import Dovecot, ImapAccount, dovecot_available
from tests.harness.postgres import Postgres, postgres_available
from tests.harness.smtpsink import SmtpSink

INSTALL_HINT = "run `bash scripts/install-test-servers`"


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
        pytest.fail(f"PostgreSQL 15 is not installed: {INSTALL_HINT}", pytrace=False)
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
