"""Start-up: each command loads only what it uses (issue 15), checked in a fresh interpreter."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cli
from models import Status

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "alembic", "holidays", "jinja2", "imapclient", "networkx", "psycopg", "models", "report.build",
         "report.data", "report.figures", "report.html", "report.pictures", "report.export", "overview", "mailer",
         "inbound", "matching")
"""What `--help` must not load: the database layer, the libraries each command needs, the report's modules."""
HELP_MODULES_AT_MOST = 250
"""Every module `--help` loads, the standard library's included (186 in December 2026; 586 before issue 15)."""


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
