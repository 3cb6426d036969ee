"""The command line: every command explains itself; mistakes become one clear line."""
from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result

from cli import main
from models import Base
from models.db import make_engine, upgrade
from tests.app import clock_env


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


COMMANDS = [(name, command) for name, command in all_commands(main)
            if not isinstance(command, click.Group) and name != "demo"]
"""Every command that reads the settings (the demo brings its own)."""

OWN_SERVERS = ('[service]\naddress = "coffee@leeds.gov.uk"\norganiser = "ann@leeds.gov.uk"\n'
               '[imap]\nhost = "127.0.0.1"\nport = 1\ntls = "none"\nuser = "coffee"\npassword = "p"\n'
               '[smtp]\nhost = "127.0.0.1"\nport = 1\ntls = "none"\n')
"""Settings that pass validation, with mail servers that refuse at once."""


def command_line(name: str, command: click.Command, config_path: Path) -> list[str]:
    """`name` with a value for each required argument or option, then the settings file."""
    args = name.split()
    for param in command.params:
        if param.required:
            value = ("1" if isinstance(param.type, click.types.IntParamType) else
                     param.type.choices[0] if isinstance(param.type, click.Choice) else
                     str(config_path.parent / "out") if isinstance(param.type, click.Path) else "sam@leeds.gov.uk")
            args += [value] if isinstance(param, click.Argument) else [param.opts[0], value]
    return ["--config", str(config_path), *args]


def invoke(args: list[str]) -> Result:
    """Run the CLI as an organiser's shell would, with no UNMENTORING_* variables set."""
    clean = {name: None for name in os.environ if name.startswith("UNMENTORING_")}
    return CliRunner().invoke(main, args, env={**clean, **clock_env()})


def assert_one_clear_line(result: Result, hint: str) -> None:
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "Traceback" not in result.output and hint in result.output, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output


BROKEN_CONFIGS = {
    "no file": (None, "no configuration file at"),
    "a folder": ("folder", "is a folder: point --config"),
    "not TOML": ("[imap\n", "is not valid TOML"),
    "Latin-1": ('[service]\nname = "Café"\n'.encode("latin-1"), "save it with the UTF-8 encoding"),
    "MySQL": (OWN_SERVERS + '[database]\nurl = "mysql://coffee:pw@db/coffee"\n', "use sqlite:///path"),
    "not a URL": (OWN_SERVERS + '[database]\nurl = "coffee database"\n', "not a database URL; use sqlite:///"),
    "data_dir is a file": ('[service]\ndata_dir = "unmentoring.toml"\n', "is a file, not a folder"),
    "a fractional port": ("[smtp]\nport = 587.5\n", "smtp.port: expected a whole number"),
    "a negative count": ("[service]\nbounce_limit = -1\n", "service.bounce_limit: -1 is out of range"),
    "an empty name": ('[service]\nname = ""\n', "service.name: is empty"),
}


def write_config(folder: Path, content: str | bytes | None) -> Path:
    path = folder / "unmentoring.toml"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


@pytest.mark.parametrize("problem", BROKEN_CONFIGS)
@pytest.mark.parametrize("name, command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_with_a_broken_config_says_one_line(tmp_path: Path, problem: str, name: str,
                                                          command: click.Command) -> None:
    content, hint = BROKEN_CONFIGS[problem]
    path = write_config(tmp_path, content)
    assert_one_clear_line(invoke(command_line(name, command, path)), hint)
    assert not (tmp_path / "data").exists()


BEFORE_INIT = [(name, command) for name, command in COMMANDS if name != "init"]


@pytest.mark.parametrize("name, command", BEFORE_INIT, ids=[name for name, _ in BEFORE_INIT])
def test_every_command_before_init_says_to_run_init_and_creates_nothing(database_url: str, tmp_path: Path,
                                                                        name: str, command: click.Command) -> None:
    path = write_config(tmp_path, OWN_SERVERS + f'[database]\nurl = "{database_url}"\n')
    result = invoke(command_line(name, command, path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unmentoring.toml"]
    if name == "config check":
        assert "Traceback" not in result.output and "database: " in result.output, result.output
        assert "run `unmentoring init`" in result.output and "settings: ok" in result.output
        return
    assert_one_clear_line(result, "run `unmentoring init`")


DATABASE_PROBLEMS = {
    "PostgreSQL not running": ('postgres://coffee:pw@127.0.0.1:1/coffee', "Connection refused"),
    "not an SQLite file": ("sqlite:///unmentoring.toml", "file is not a database"),
    "SQLite folder is a file": ("sqlite:///unmentoring.toml/coffee.sqlite3", "so the database cannot be made inside"),
}


@pytest.mark.parametrize("problem", DATABASE_PROBLEMS)
@pytest.mark.parametrize("name, command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_with_an_unusable_database_says_one_line(tmp_path: Path, problem: str, name: str,
                                                               command: click.Command) -> None:
    url, hint = DATABASE_PROBLEMS[problem]
    path = write_config(tmp_path, OWN_SERVERS + f'[database]\nurl = "{url}"\n')
    result = invoke(command_line(name, command, path))
    if name == "config check":
        assert result.exit_code == 1 and "Traceback" not in result.output and hint in result.output, result.output
        assert "pw@" not in result.output
        return
    assert_one_clear_line(result, hint)
    assert "pw@" not in result.output


def test_every_command_takes_config_after_its_name_too() -> None:
    for name, command in all_commands(main):
        assert any("--config" in getattr(param, "opts", []) for param in command.params), name


def test_tick_and_the_others_read_the_config_given_after_the_command(service) -> None:  # type: ignore[no-untyped-def]
    result = invoke(["tick", "--config", str(service.path)])
    assert result.exit_code == 0 and "inbox: 0 seen" in result.output, result.output
    elsewhere = str(service.path.parent / "missing.toml")
    result = invoke(["--config", elsewhere, "participants", "list", "--status", "active", "--config", str(service.path)])
    assert result.exit_code == 0 and result.output == "nobody yet\n", result.output


def test_a_wrong_status_says_which_statuses_exist(tmp_path: Path) -> None:
    result = invoke(["participants", "list", "--status", "bogus", "--config", str(write_config(tmp_path, ""))])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'bogus' is not one of 'pending', 'active', 'paused', 'left', 'suspended'" in result.output


def test_config_check_warns_of_unknown_variables_and_the_example_addresses(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "unmentoring.example.toml"
    result = CliRunner().invoke(main, ["config", "check", "--config", str(example)],
                                env={"UNMENTORING_SMTP_PASWORD": "x", **clock_env()})
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings[0] == ("warning: UNMENTORING_SMTP_PASWORD is not a setting, so it is ignored; "
                           "did you mean UNMENTORING_SMTP_PASSWORD?")
    assert [line.split()[1] for line in warnings[1:]] == ["service.address", "service.organiser", "imap.host",
                                                          "imap.user", "smtp.host", "smtp.user"]
    assert "example.org, the example's placeholder domain" in warnings[1]


def test_a_file_in_the_way_of_a_folder_is_one_line(service) -> None:  # type: ignore[no-untyped-def]
    in_the_way = service.path.parent / "report.html"
    in_the_way.write_text("an old report")
    result = invoke(["report", "--out", str(in_the_way / "new"), "--config", str(service.path)])
    assert_one_clear_line(result, f"{in_the_way} is a file where a folder is needed")
