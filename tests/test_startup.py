"""Start-up: each command loads only what it uses (issue 15), checked in a fresh interpreter."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text

import cli
from cli import main
from mailer.send import deliver_due
from models import Participant, Status
from models.db import _alembic_config, head_revision, is_current, make_engine, sessions, upgrade
from rounds.lifecycle import open_round
from tests.app import TEST_START, Service, clock_env
from tests.test_cli import OWN_SERVERS

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "alembic", "holidays", "jinja2", "imapclient", "networkx", "psycopg", "models", "report.build",
         "report.data", "report.figures", "report.html", "report.pictures", "report.export", "overview", "mailer",
         "inbound", "matching")
"""What `--help` must not load: the database layer, the libraries each command needs, the report's modules."""
HELP_MODULES_AT_MOST = 250
"""Every module `--help` loads, the standard library's included (184 in December 2026; 587 before issue 15)."""


def loaded_after(argv: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """The output of `unmentoring ARGV` run in a fresh interpreter, and every module it had loaded by the end."""
    script = ("import json, sys, cli\n"
              "try:\n    cli.main(sys.argv[1:], prog_name='unmentoring')\n"
              "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
              "print('MODULES=' + json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", script, *argv], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    output, _, modules = done.stdout.rpartition("MODULES=")
    return output, json.loads(modules)


IDLE_TICK_SKIPS = ("alembic", "holidays", "jinja2", "networkx", "matching", "flufl", "inbound.apply",
                   "inbound.handlers", "inbound.parse", "report.build", "report.data", "urllib.request")
"""What a tick with an empty inbox and no round step due has no use for."""
QUIET_TICK_SKIPS = HEAVY + ("rounds.lifecycle", "tick", "asyncio")
"""What the quiet tick (the last full run said nothing is due yet, and the inbox is empty) does without."""


def heavy(modules: list[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    return [m for m in modules if any(m == name or m.startswith(name + ".") for name in names)]


def test_help_loads_neither_the_database_layer_nor_the_libraries_of_commands() -> None:
    output, modules = loaded_after(["--help"])
    assert "tick" in output and "participants" in output and "report" in output
    assert heavy(modules) == []
    assert len(modules) <= HELP_MODULES_AT_MOST, f"{len(modules)} modules: {modules}"


def test_a_commands_help_loads_no_more_than_the_main_help() -> None:
    output, modules = loaded_after(["participants", "list", "--help"])
    assert "pending|active|paused|left|suspended" in output
    assert heavy(modules) == []


def test_the_status_choices_of_the_cli_are_the_models() -> None:
    assert cli.STATUSES == tuple(s.value for s in Status)


def test_the_head_named_by_the_migration_files_is_alembics(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert head_revision() == ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def test_migration_files_that_do_not_make_one_chain_name_no_head(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("revision = 'a'\ndown_revision = None\n")
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    assert head_revision(tmp_path) == "b"
    (tmp_path / "c.py").write_text("revision = 'c'\ndown_revision = 'a'\n")
    assert head_revision(tmp_path) is None
    (tmp_path / "c.py").write_text("revision = 'c'\ndown_revision = ('a', 'b')\n")
    assert head_revision(tmp_path) is None


def test_a_database_one_migration_behind_is_still_refused(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0011")
    path = tmp_path / "unmentoring.toml"
    path.write_text(OWN_SERVERS + f'[database]\nurl = "{database_url}"\n')
    for command in (["tick"], ["status"]):
        result = CliRunner().invoke(main, ["--config", str(path), *command], env=clock_env())
        assert result.exit_code == 1, result.output
        assert result.output == ("Error: the database is not set up or is out of date: "
                                 "run `unmentoring init`\n"), result.output
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    assert not is_current(engine)
    engine.dispose()


def test_an_idle_tick_loads_only_what_it_uses(service: Service) -> None:
    opened = TEST_START - timedelta(days=2)
    with service.session() as session, session.begin():
        session.add_all(Participant(email=f"p{n}@org{n % 3}.example.net", status=Status.ACTIVE, reply_token=f"t{n:03d}",
                                    confirmed_at=opened - timedelta(days=30)) for n in range(6))
    with service.session() as session, session.begin():
        open_round(session, service.settings, opened, source="organiser", seed=1)
    assert deliver_due(sessions(service.engine), service.settings.smtp, now=lambda: opened).sent == 6
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNMENTORING_")}
    runs = []
    for run in ("first", "full", "quiet"):
        if run == "full":  # any write clears the quiet time, as a reply or a command would
            with service.engine.begin() as connection:
                connection.execute(text("UPDATE participants SET name = 'Sam' WHERE id = 1"))
        output, modules = loaded_after(["--config", str(service.path), "tick"], env | clock_env(service.clock()))
        assert "inbox: 0 seen" in output and "outbox: 0 sent, 0 to retry, 0 failed" in output, output
        assert "round" not in output, output
        runs.append((output, modules))
    _, (full_output, full), (quiet_output, quiet) = runs
    assert heavy(full, IDLE_TICK_SKIPS) == [], "a full idle tick loaded these"
    assert "sqlalchemy" in full and "imapclient" in full
    driver = "libpq_read" if service.engine.dialect.name == "postgresql" else "sqlite3"
    assert heavy(quiet, QUIET_TICK_SKIPS) == [], "the second idle tick, a quiet one, loaded these"
    assert driver in quiet and "imaplib" in quiet, "the quiet tick reads the database and the inbox"
    assert quiet_output == full_output, "a quiet run says what a full idle run says"
    assert len(service.smtp.messages) == 6
