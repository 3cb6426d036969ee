"""What every command shares at the edge: --config after the command's name too, and an error
no command caught (a file in the way, a database that refuses) as one line instead of a traceback."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from config import ConfigError, file_in_the_way
from database_url import DatabaseUrlError

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError


def reason(exc: DBAPIError) -> str:
    """The database driver's message on one line (PostgreSQL's run over several)."""
    return " ".join(str(exc.orig).split())


def one_line(exc: Exception) -> click.ClickException | None:
    """What the organiser reads for an error no command caught; None for one that is a bug."""
    if isinstance(exc, ConfigError):
        return click.ClickException(str(exc))
    if isinstance(exc, DatabaseUrlError):
        return click.ClickException(f"database.url: {exc}")
    if _from_the_database(exc):
        return click.ClickException(f"the database refused: {reason(exc)}; check database.url, "
                                    "or run `unmentoring init` if the schema is out of date")
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
        return click.ClickException(file_problem(exc))
    return None


def _from_the_database(exc: Exception) -> bool:
    """Whether SQLAlchemy raised `exc` for the driver. Only a command that loaded SQLAlchemy can
    raise that, so `--help` and a mistyped option never load it just to look."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.DBAPIError)


def file_problem(exc: OSError) -> str:
    """A file or folder the command could not use, and what to do about it."""
    name = exc.filename
    if name is None:
        return f"{exc.strerror or exc}"
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        blocking = file_in_the_way(Path(name)) or name
        return f"{blocking} is a file where a folder is needed: move it, or change the setting or option that names it"
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a folder where a file is needed: change the setting or option that names it"
    if isinstance(exc, PermissionError):
        return f"{name}: permission denied; let the user who runs unmentoring read and write it"
    if isinstance(exc, FileNotFoundError):
        return f"{name} does not exist: create it, or change the setting or option that names it"
    return f"cannot use {name}: {exc.strerror}"


def _late_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """Given after the command's name, --config replaces the one given before it (cli.App's)."""
    if value is not None:
        ctx.obj.config_path = value


class AppGroup(click.Group):
    """Every command, and every group of commands, is an AppGroup's: each also takes --config
    after its name (`unmentoring tick --config x.toml`), and an error no command caught becomes
    one line here, at the edge, instead of a traceback."""

    group_class = type

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any(param.name == "late_config" for param in cmd.params):
            cmd.params.append(click.Option(["--config", "late_config"], type=click.Path(),
                                           expose_value=False, callback=_late_config,
                                           help="Settings file (default ./unmentoring.toml, or UNMENTORING_CONFIG)."))
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            edge = one_line(exc)
            if edge is None:
                raise
            raise edge from None
