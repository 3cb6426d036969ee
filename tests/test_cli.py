"""The command line: every command explains itself; mistakes become one clear line."""
from __future__ import annotations

from pathlib import Path

import click
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from cli import main
from models import Base
from models.db import make_engine, upgrade


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += all_commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize("name, command", all_commands(main))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    if isinstance(command, click.Group):
        assert command.help, name
    else:
        assert command.help and "Example" in command.help, f"`{name}` needs help text with an example"


def test_init_creates_then_upgrades_and_tick_before_init_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "unmentoring.toml"
    path.write_text('[service]\naddress = "coffee@example.org"\n[imap]\nuser = "u"\npassword = "p"\n')
    runner = CliRunner()
    before = runner.invoke(main, ["--config", str(path), "status"])
    assert before.exit_code == 1 and "run `unmentoring init`" in before.output
    for _ in range(2):
        result = runner.invoke(main, ["--config", str(path), "init"])
        assert result.exit_code == 0 and "database ready" in result.output
    assert (tmp_path / "data" / "unmentoring.sqlite3").exists()
    assert "participants: none yet" in runner.invoke(main, ["--config", str(path), "status"]).output


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "init"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "no configuration file" in result.output


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_config_check_logs_in_to_both_servers(service) -> None:  # type: ignore[no-untyped-def]
    result = service.cli("config", "check")
    assert result.exit_code == 0, result.output
    assert "IMAP: logged in" in result.output and "SMTP: logged in" in result.output
    service.set("imap", "password", "wrong")
    service.set("smtp", "port", 1)
    result = service.cli("config", "check")
    assert result.exit_code == 1
    assert "IMAP: cannot log in" in result.output and "SMTP: cannot log in" in result.output
