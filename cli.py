"""The `unmentoring` command: a thin click layer; errors become one clear line here, at the edge."""
from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

import config as config_module
from config import ConfigError, Settings
from models.db import is_current, make_engine, sessions, upgrade
from models.summary import collect_status
from runlock import Busy


class App:
    """What every command needs, built once: settings and the engine."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = config_module.load(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def ready_engine(self) -> Engine:
        """The engine, once the schema is known to be current (else: say to run init)."""
        try:
            current = is_current(self.engine)
        except (OperationalError, ProgrammingError) as exc:
            raise click.ClickException(f"cannot use the database: {exc.orig}") from None
        if not current:
            raise click.ClickException("the database is not set up or is out of date: run `unmentoring init`")
        return self.engine


pass_app = click.make_pass_decorator(App)


@click.group()
@click.option("--config", "config_path", envvar="UNMENTORING_CONFIG", type=click.Path(dir_okay=False),
              help="Settings file (default ./unmentoring.toml).")
@click.option("-v", "--verbose", is_flag=True, help="Log each message's decision.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """unmentoring: randomised coffee trials for a professional network, run by email.

    \b
    Example (from cron, every 10 minutes):
      */10 * * * * cd /srv/unmentoring && .venv/bin/unmentoring tick
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    ctx.obj = App(config_path)


@main.command()
@pass_app
def init(app: App) -> None:
    """Create the database, or upgrade it to the current schema.

    \b
    Example:
      unmentoring init
    """
    try:
        upgrade(app.engine)
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(f"cannot set up the database: {exc.orig}") from None
    click.echo(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")


@main.command()
@pass_app
def tick(app: App) -> None:
    """Poll the inbox, act on every message, then send what is due. Run this from cron.

    \b
    Example:
      unmentoring tick
    """
    from tick import tick as run_tick

    config_module.require_login(app.settings, "imap")
    engine = app.ready_engine()
    try:
        report = run_tick(engine, app.settings)
    except Busy as exc:
        click.echo(f"{exc}; nothing done this time")
        return
    p, s = report.poll, report.send
    click.echo(f"inbox: {p.seen} seen, {p.processed} handled, {p.quarantined} quarantined, {p.duplicates} already done")
    for note in report.rounds:
        click.echo(note)
    click.echo(f"outbox: {s.sent} sent, {s.deferred} to retry, {s.failed} failed")
    for error in report.errors + s.errors[:5]:
        click.echo(f"  {error}", err=True)
    if report.errors:
        sys.exit(1)


@main.command()
@pass_app
def send(app: App) -> None:
    """Send what is due in the outbox (tick does this too).

    \b
    Example:
      unmentoring send
    """
    from mailer.send import deliver_due

    report = deliver_due(sessions(app.ready_engine()), app.settings.smtp)
    click.echo(f"outbox: {report.sent} sent, {report.deferred} to retry, {report.failed} failed")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Participants, outbox and quarantine at a glance.

    \b
    Example:
      unmentoring status --json
    """
    figures = collect_status(app.ready_engine())
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    people = ", ".join(f"{n} {s}" for s, n in sorted(figures["participants"].items())) or "none yet"
    click.echo(f"participants: {people}")
    click.echo(f"outbox: {figures['outbox_queued']} waiting, {figures['outbox_failed']} failed")
    click.echo(f"quarantine: {figures['quarantined']} message(s)")
    if figures["quarantined"]:
        click.echo("  look in the IMAP quarantine folder; each message's reason is in the database")


@main.group("config")
def config_group() -> None:
    """Check the settings file."""


@config_group.command("check")
@pass_app
def config_check(app: App) -> None:
    """Validate the settings and try to log in to IMAP and SMTP.

    \b
    Example:
      UNMENTORING_IMAP_PASSWORD=... unmentoring config check
    """
    settings = app.settings
    click.echo(f"settings: ok ({settings.source})")
    failures = 0
    for label, part, attempt in (("IMAP", settings.imap, _try_imap), ("SMTP", settings.smtp, _try_smtp)):
        try:
            attempt(settings)
            click.echo(f"{label}: logged in to {part.host}:{part.port} ({part.tls})")
        except Exception as exc:
            failures += 1
            click.echo(f"{label}: cannot log in to {part.host}:{part.port} ({part.tls}): {exc}", err=True)
    if failures:
        sys.exit(1)


def _try_imap(settings: Settings) -> None:
    from inbound.poller import connect

    config_module.require_login(settings, "imap")
    connect(settings.imap).logout()


def _try_smtp(settings: Settings) -> None:
    from mailer.send import connect

    connect(settings.smtp).quit()


@main.command()
@click.option("--keep", type=click.Path(file_okay=False), help="Folder for the demo's data and mail.")
def demo(keep: str | None) -> None:
    """Run the service against in-process mail servers, with nothing to install or configure.

    \b
    Example:
      unmentoring demo --keep ./demo
    """
    from demo import run_demo

    run_demo(keep)


if __name__ == "__main__":
    main()
