"""Fixtures for the application: settings pointing at the real test servers, a migrated database."""
from __future__ import annotations

from contextlib import contextmanager
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import config
from clock import ENV_CLOCK
from cli import main
from models.db import make_engine, sessions
from tests.harness.schema import at_head
from tests.mail import SERVICE

TEST_START = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
"""Where every CLI run in the tests starts its clock: mid-round, no step due (never today's date)."""


def clock_env(start: datetime = TEST_START) -> dict[str, str]:
    """The environment that starts the service's clock at `start` (see clock.py)."""
    return {ENV_CLOCK: start.isoformat()}


class RunningClock:
    """TEST_START plus the real time since this clock was made. Each run of the service starts its
    clock here, so runs follow one another as in life: a run never sees time go back to before
    mail that an earlier run queued."""

    def __init__(self, start: datetime = TEST_START) -> None:
        self.start, self.origin = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


def settings_table(database_url: str, data_dir: Path, imap: Any, smtp: Any) -> dict[str, Any]:
    return {
        "service": {"address": SERVICE, "name": "Coffee Roulette", "organiser": "organiser@example.org",
                    "data_dir": str(data_dir)},
        "database": {"url": database_url},
        "imap": {"host": imap.host, "port": imap.port, "tls": "none", "user": imap.user, "password": imap.password,
                 "batch_size": 50},
        "smtp": {"host": smtp.host, "port": smtp.port, "tls": "none"},
    }


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else f'"{value}"'


def to_toml(table: dict[str, Any]) -> str:
    lines = []
    for section, values in table.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def service(database_url: str, tmp_path: Path, imap_account: Any, smtp_sink: Any) -> Iterator["Service"]:
    table = settings_table(database_url, tmp_path / "data", imap_account, smtp_sink)
    with running(table, tmp_path, imap_account, smtp_sink) as started:
        yield started


@contextmanager
def running(table: dict[str, Any], folder: Path, imap: Any, smtp: Any) -> Iterator["Service"]:
    """The service with these settings written to `folder`, its database migrated."""
    path = folder / "unmentoring.toml"
    path.write_text(to_toml(table))
    engine = make_engine(table["database"]["url"])
    at_head(engine)
    try:
        yield Service(path, table, engine, imap, smtp)
    finally:
        engine.dispose()


class Service:
    """The service under test, as an organiser would run it, plus handles on its mail servers."""

    def __init__(self, path: Path, table: dict[str, Any], engine: Engine, imap: Any, smtp: Any) -> None:
        self.path, self.table, self.engine, self.imap, self.smtp = path, table, engine, imap, smtp
        self.clock = RunningClock()

    @property
    def settings(self) -> config.Settings:
        return config.load(self.path, env={})

    def set(self, section: str, key: str, value: Any) -> None:
        """Change one setting in the service's config file, as an organiser would."""
        self.table.setdefault(section, {})[key] = value
        self.path.write_text(to_toml(self.table))

    def travel(self, to: datetime) -> None:
        """Later runs of the service start their clock at `to`."""
        self.clock = RunningClock(to)

    def cli(self, *args: str) -> Result:
        result = CliRunner().invoke(main, ["--config", str(self.path), *args], catch_exceptions=False,
                                    env=clock_env(self.clock()))
        return result

    def tick(self) -> Result:
        result = self.cli("tick")
        assert result.exit_code == 0, result.output
        return result

    def session(self) -> Session:
        return sessions(self.engine)()
