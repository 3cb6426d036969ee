"""The `unmentoring` command: a thin click layer; errors become one clear line here, at the edge.

Each command imports the code it runs inside its own function: `--help` then loads click and
the settings, not the database layer, and `tick` loads what a tick uses (tests/test_startup.py).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import sys
from typing import TYPE_CHECKING, Any

import click

import clock
import config as config_module
from config import ConfigError, Settings
from cli_edge import AppGroup, reason
from database_url import sqlite_file
from runlock import Busy, exclusive
from wording import plural
from report.command import report_command
from trials.command import experiment_group

if TYPE_CHECKING:
    from sqlalchemy import Engine

STATUSES = ("pending", "active", "paused", "left", "suspended")
"""models.Status's values, written out so that `--help` does not load the models (a test keeps them equal)."""


class App:
    """What every command needs, built once: settings and the engine."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None
        self._engine: Engine | None = None
        self._now: clock.Clock | None = None

    @property
    def now(self) -> clock.Clock:
        """The service's clock: the system's, or UNMENTORING_CLOCK's (tests, the demo, dry runs)."""
        if self._now is None:
            try:
                self._now = clock.from_env()
            except clock.ClockError as exc:
                raise click.ClickException(str(exc)) from None
        return self._now

    @property
    def settings(self) -> Settings:
        """Loaded on first use; first, a warning for each UNMENTORING_* variable that is no setting."""
        if self._settings is None:
            for warning in config_module.unknown_variables(os.environ):
                click.echo(f"warning: {warning}", err=True)
            try:
                self._settings = config_module.load(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from models.db import make_engine

            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def require_login(self, section: str) -> None:
        """What logging in to `section` needs is set, or one line saying which key to set."""
        try:
            config_module.require_login(self.settings, section)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def ready_engine(self) -> Engine:
        """The engine, once the schema is known to be current (else: say to run init).

        An SQLite file that is not there yet is not created: only `init` does that.
        """
        from sqlalchemy.exc import DBAPIError

        from models.db import is_current

        missing = sqlite_file(self.settings.database_url)
        if missing is not None and not missing.exists():
            raise NotSetUp(f"no database yet at {missing}: run `unmentoring init` to create it")
        try:
            current = is_current(self.engine)
        except DBAPIError as exc:
            raise click.ClickException(f"cannot use the database: {reason(exc)}; check database.url") from None
        if not current:
            raise NotSetUp("the database is not set up or is out of date: run `unmentoring init`")
        return self.engine


class NotSetUp(click.ClickException):
    """The database is missing or behind the code: `unmentoring init` is the answer."""


pass_app = click.make_pass_decorator(App)


@click.group(cls=AppGroup)
@click.option("--config", "config_path", envvar=config_module.ENV_PATH, type=click.Path(),
              help="Settings file (default ./unmentoring.toml, or UNMENTORING_CONFIG).")
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
    from sqlalchemy.exc import DBAPIError

    from models.db import upgrade

    for warning in config_module.placeholders(app.settings):
        click.echo(f"warning: {warning}", err=True)
    try:
        upgrade(app.engine)
    except DBAPIError as exc:
        raise click.ClickException(f"cannot set up the database: {reason(exc)}; check database.url") from None
    click.echo(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")


@main.command()
@pass_app
def tick(app: App) -> None:
    """Poll the inbox, act on every message, then send what is due. Run this from cron.

    \b
    Example:
      unmentoring tick
    """
    from quiet_tick import nothing_to_do

    app.require_login("imap")
    if app.settings.smtp.auth == "oauth2":
        app.require_login("smtp")
    if nothing_to_do(app.settings, app.now()):
        logging.info("nothing due and the inbox is empty: the rest of this run is skipped")
        click.echo(f"{INBOX_IDLE}\n{OUTBOX_IDLE}")
        return
    from tick import tick as run_tick

    engine = app.ready_engine()
    try:
        report = run_tick(engine, app.settings, now=app.now)
    except Busy as exc:
        click.echo(f"{exc}; nothing done this time")
        return
    _print_tick(report)
    if report.errors:
        sys.exit(1)


INBOX_IDLE = "inbox: 0 seen, 0 handled, 0 quarantined, 0 already done"
OUTBOX_IDLE = "outbox: 0 sent, 0 to retry, 0 failed"
"""What a run that found nothing to do prints (the quiet tick prints them without a report)."""


def _print_tick(report: Any) -> None:
    p, s = report.poll, report.send
    if report.inbox_read:
        click.echo(f"inbox: {p.seen} seen, {p.processed} handled, {p.quarantined} quarantined, {p.duplicates} already done")
    else:
        click.echo("inbox: not read this run (the reason is below)")
    if p.unfetched:
        click.echo(f"  {plural(p.unfetched, 'message')} listed by the IMAP server could not be read; they stay in "
                   "the inbox for the next run (if this repeats, look at them in the inbox)", err=True)
    for left in p.left[:5]:
        click.echo(f"  {left}: if this repeats, move it out of the inbox by hand and report it (the log says why)",
                   err=True)
    if len(p.left) > 5:
        click.echo(f"  ... and {plural(len(p.left) - 5, 'more message')} left in the inbox the same way", err=True)
    for note in report.rounds:
        click.echo(note)
    click.echo(f"outbox: {s.sent} sent, {s.deferred} to retry, {s.failed} failed")
    for error in report.errors + s.errors[:5]:
        click.echo(f"  {error}", err=True)


@main.command()
@click.option("--watch", is_flag=True, help="Stay connected and act within seconds of mail arriving (IMAP IDLE).")
@click.option("--idle-seconds", default=300, show_default=True, help="With --watch: wake at least this often.")
@pass_app
def poll(app: App, watch: bool, idle_seconds: int) -> None:
    """Do what tick does now; with --watch, keep doing it whenever mail arrives (Ctrl-C stops).

    \b
    Example:
      unmentoring poll --watch
    """
    from inbound.watch import watch as watch_forever

    app.require_login("imap")
    engine = app.ready_engine()
    try:
        watch_forever(engine, app.settings, idle_seconds, _print_tick, rounds=None if watch else 1, now=app.now)
    except KeyboardInterrupt:
        click.echo("stopped")


@main.command()
@pass_app
def send(app: App) -> None:
    """Send what is due in the outbox (tick does this too).

    \b
    Example:
      unmentoring send
    """
    from mailer.oauth import TokenError, with_access_tokens
    from mailer.send import deliver_due
    from models.db import sessions

    try:
        smtp = with_access_tokens(app.settings).smtp
    except TokenError as exc:
        raise click.ClickException(f"no OAuth token, nothing sent: {exc}") from None
    engine = app.ready_engine()
    try:
        with exclusive(app.settings.data_path, engine):
            report = deliver_due(sessions(engine), smtp, now=app.now)
    except Busy as exc:
        raise click.ClickException(f"{exc}: that run sends what is due; nothing sent from here") from None
    click.echo(f"outbox: {report.sent} sent, {report.deferred} to retry, {report.failed} failed")
    for error in report.errors[:5]:
        click.echo(f"  {error}", err=True)
    if report.stopped:
        raise click.ClickException(report.stopped)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Participants, outbox and quarantine at a glance.

    \b
    Example:
      unmentoring status --json
    """
    import overview
    from models.db import reading

    with reading(app.ready_engine())() as session:
        figures = overview.figures(session, app.settings, app.now())
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    for line in overview.lines(figures, app.settings):
        click.echo(line)


@main.group("quarantine")
def quarantine_group() -> None:
    """See mail we could not act on, and put it back once the cause is fixed."""


@quarantine_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def quarantine_list(app: App, as_json: bool) -> None:
    """Every quarantined message: its id, when, from whom, the subject and why.

    \b
    Example:
      unmentoring quarantine list
    """
    import overview
    from models.db import reading
    from models.summary import all_quarantined

    with reading(app.ready_engine())() as session:
        held = all_quarantined(session)
    emit(held, as_json, [overview.quarantine_line(item, app.settings.tz) for item in held] or ["nothing in quarantine"])


@quarantine_group.command("retry")
@click.argument("ids", nargs=-1, type=int, required=True)
@pass_app
def quarantine_retry(app: App, ids: tuple[int, ...]) -> None:
    """Move quarantined messages back to the inbox, to be acted on by the next run: after raising
    imap.max_message_bytes, say, or upgrading past a bug. Ids come from `quarantine list`.

    \b
    Example:
      unmentoring quarantine retry 12 15
    """
    from inbound.poller import release
    from mailer.oauth import TokenError, with_access_tokens
    from models.db import sessions

    app.require_login("imap")
    engine = app.ready_engine()
    try:
        with exclusive(app.settings.data_path, engine):
            outcome = release(sessions(engine), with_access_tokens(app.settings), list(ids))
    except Busy as exc:
        raise click.ClickException(f"{exc}: try again in a minute") from None
    except TokenError as exc:
        raise click.ClickException(f"no OAuth token, so nothing was moved: {exc}") from None
    for i in ids:
        click.echo(f"#{i}: {outcome[i]}")
    if any(not text.startswith("back in the inbox") for text in outcome.values()):
        sys.exit(1)


@main.group("outbox", invoke_without_command=True)
@click.pass_context
def outbox_group(ctx: click.Context) -> None:
    """Mail that failed or is waiting for another try; put failed mail back in the queue.

    \b
    Example:
      unmentoring outbox
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(outbox_list)


@outbox_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def outbox_list(app: App, as_json: bool) -> None:
    """Failed emails, and emails tried that wait for another go: id, to whom, the subject, why.

    \b
    Example:
      unmentoring outbox list --json
    """
    from mailer.attempts import troubled, waiting_untried
    from models.db import reading

    with reading(app.ready_engine())() as session:
        rows, untried = troubled(session), waiting_untried(session)
    lines = [outbox_line(row, app.settings.tz) for row in rows] or ["nothing failed or waiting for a retry"]
    if untried:
        lines.append(f"{untried} more waiting for their first try (the next run sends them)")
    if any(row["status"] == "failed" or row["rejected"] for row in rows):
        lines.append("once the cause is fixed: unmentoring outbox requeue ID (or --all-failed)")
    emit(rows, as_json, lines)


def outbox_line(row: dict[str, Any], tz: Any) -> str:
    from mailer.headers import clean_header_text
    from overview import local

    subject, reason = clean_header_text(row["subject"]), clean_header_text(row["reason"])
    to = ", ".join(row["to"]) or "(erased)"
    when = "" if row["status"] in ("failed", "sent") else f", next try {local(row['next_try'], tz)}"
    refused = "".join(f"; {rcpt} refused: {clean_header_text(why)}" for rcpt, why in row["rejected"].items())
    tries = plural(row["attempts"], "try", "tries")
    return (f"#{row['id']} {row['status']} after {tries}{when}: to {to}, \"{subject}\""
            f"{': ' + reason if reason else ''}{refused}")


@outbox_group.command("requeue")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed email.")
@pass_app
def outbox_requeue(app: App, ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed emails back in the queue, to be sent by the next run: after the recipient fixed
    their mailbox, say, or you raised the provider's sending limit. Ids come from `outbox list`.
    A group email goes only to the members who have not got it.

    \b
    Example:
      unmentoring outbox requeue 12 15
    """
    from mailer.attempts import requeue
    from models.db import sessions

    engine = app.ready_engine()
    if bool(ids) == all_failed:
        raise click.ClickException("name the emails to requeue by id (from `unmentoring outbox`), or use --all-failed")
    try:
        with exclusive(app.settings.data_path, engine), sessions(engine).begin() as session:
            outcome = requeue(session, None if all_failed else list(ids), app.now())
    except Busy as exc:
        raise click.ClickException(f"{exc}: try again in a minute") from None
    for i, text in outcome.items():
        click.echo(f"#{i}: {text}")
    if not outcome:
        click.echo("no failed emails")
    if any(not text.startswith("queued again") for text in outcome.values()):
        sys.exit(1)


def emit(data: Any, as_json: bool, lines: list[str]) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else "\n".join(lines))


def describe(person: dict[str, Any]) -> str:
    org = f", {person['organisation']}" if person["organisation"] else ""
    return f"{person['name'] or person['email']}{org} <{person['email']}>"


def group_lines(groups: list[list[dict[str, Any]]]) -> list[str]:
    return [f"  {n}. " + " + ".join(describe(p) for p in group) for n, group in enumerate(groups, 1)]


@main.group("round")
def round_group() -> None:
    """See, open and close rounds by hand (tick does it on schedule)."""


@round_group.command("preview")
@click.option("--seed", type=int, help="Draw with this seed (default: a random one).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def round_preview(app: App, seed: int | None, as_json: bool) -> None:
    """Show the groups a draw would make now; nothing is saved or sent.

    \b
    Example:
      unmentoring round preview --seed 7
    """
    from models.db import reading
    from rounds.lifecycle import plan
    from rounds.views import plan_view

    with reading(app.ready_engine())() as session:
        view = plan_view(session, plan(session, app.settings, seed, app.now()))
    lines = [f"{plural(len(view['groups']), 'group')} (seed {view['seed']}, "
             f"{plural(view['repeats'], 'repeated pair')}, "
             f"{plural(view['same_organisation'], 'same-organisation pair')}):", *group_lines(view["groups"])]
    lines += [f"  sits out: {describe(p)}" for p in view["sitting_out"]]
    lines += [f"  skipping: {describe(p)}" for p in view["skipping"]]
    emit(view, as_json, lines)


@round_group.command("open")
@click.option("--seed", type=int, help="Draw with this seed (default: a random one).")
@pass_app
def round_open(app: App, seed: int | None) -> None:
    """Close the running round (if any) and open the next one now; introductions go out with the next send.

    \b
    Example:
      unmentoring round open && unmentoring send
    """
    from models.db import sessions
    from rounds.lifecycle import group_count, open_round

    with sessions(app.ready_engine()).begin() as session:
        rnd = open_round(session, app.settings, app.now(), source="organiser", seed=seed)
        click.echo(f"round {rnd.number} opened: {plural(group_count(session, rnd), 'group')}, seed {rnd.seed}; "
                   "introductions are in the outbox (`unmentoring send` or the next tick sends them)")


@round_group.command("close")
@pass_app
def round_close(app: App) -> None:
    """Close the running round now (outcomes that arrive later still count for it).

    \b
    Example:
      unmentoring round close
    """
    from models.db import sessions
    from rounds.admin import AdminError, close_running

    with sessions(app.ready_engine()).begin() as session:
        try:
            rnd = close_running(session, app.settings, app.now())
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"round {rnd.number} closed")


@round_group.command("top-up")
@click.option("--seed", type=int, help="Draw with this seed (default: a random one).")
@pass_app
def round_top_up(app: App, seed: int | None) -> None:
    """Introduce, in the running round, people who joined or resumed after it opened.

    \b
    Example:
      unmentoring round top-up
    """
    from models.db import sessions
    from rounds.admin import AdminError, top_up

    with sessions(app.ready_engine()).begin() as session:
        try:
            made = top_up(session, app.settings, app.now(), secrets.randbits(31) if seed is None else seed)
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{plural(made, 'more group')} introduced; the emails are in the outbox")


@round_group.command("show")
@click.argument("number", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def round_show(app: App, number: int | None, as_json: bool) -> None:
    """Show a round's groups and outcomes (default: the latest round).

    \b
    Example:
      unmentoring round show 3
    """
    from models.db import reading
    from rounds.views import find_round, round_view

    with reading(app.ready_engine())() as session:
        rnd = find_round(session, number)
        if rnd is None:
            raise click.ClickException("no such round yet; `unmentoring status` says when the next one opens")
        view = round_view(session, rnd)
    state = f"closed {view['closed_at']}" if view["closed_at"] else f"open until {view['closes_at']}"
    lines = [f"round {view['number']} (seed {view['seed']}), opened {view['opened_at']}, {state}:"]
    lines += [f"  {g['outcome']:>9}: " + " + ".join(describe(p) for p in g["members"]) for g in view["groups"]]
    lines += [f"  sat out ({s['reason']}): {describe(s['participant'])}" for s in view["sit_outs"]]
    emit(view, as_json, lines)


@main.group("participants")
def participants_group() -> None:
    """List, inspect, pause, resume or remove participants."""


@participants_group.command("list")
@click.option("--status", "status_filter", type=click.Choice(STATUSES),
              help="Only people with this status.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def participants_list(app: App, status_filter: str | None, as_json: bool) -> None:
    """Everyone who has joined, with their status.

    \b
    Example:
      unmentoring participants list --status active
    """
    from sqlalchemy import select

    from models import Participant
    from models.db import reading
    from rounds.views import person_view

    with reading(app.ready_engine())() as session:
        query = select(Participant).order_by(Participant.email)
        if status_filter:
            query = query.where(Participant.status == status_filter)
        people = [person_view(p) for p in session.scalars(query)]
    emit(people, as_json, [f"{p['status']:>9}  {describe(p)}" for p in people] or ["nobody yet"])


@participants_group.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def participants_show(app: App, email: str, as_json: bool) -> None:
    """Everything we hold about one participant, and their history.

    \b
    Example:
      unmentoring participants show sam@leeds.gov.uk
    """
    from models.db import reading
    from rounds.admin import AdminError, find_participant
    from rounds.person import participant_record

    with reading(app.ready_engine())() as session:
        try:
            person = find_participant(session, email)
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
        data = participant_record(session, person)
    emit(data, as_json, record_lines(data))


def record_lines(data: dict[str, Any]) -> list[str]:
    """The profile and dates, one per line, then each group, sit-out and status change."""
    lines = [f"{k:>16}: {v}" for k, v in data.items() if v and not isinstance(v, (list, bool))]
    lines.append(f"{'bounces':>16}: {data['bounces']}")
    if data["skips_next_round"]:
        lines.append(f"{'skips next round':>16}: yes")
    lines.append(f"groups ({len(data['groups'])}):" if data["groups"] else "groups: none yet")
    for g in data["groups"]:
        others = " + ".join(describe(p) for p in g["with"]) or "(the others have gone)"
        report = f", reported {g['reported']}" + (f": {g['reason']}" if g["reason"] else "") if g["reported"] else ""
        lines.append(f"  round {g['round']} ({g['introduced']}) with {others}: {g['outcome']}{report}")
    lines += [f"  round {s['round']}: sat out ({s['reason']})" for s in data["sat_out"]]
    if data["history"]:
        lines.append("history:")
    lines += [f"  {h['at']} {h['action']}" + (f" ({h['from']} -> {h['to']})" if h["from"] != h["to"] else "")
              + f" by {h['by']}" + (f": {h['detail']}" if h["detail"] else "") for h in data["history"]]
    return lines


def _status_command(action: str, help_text: str) -> None:
    @participants_group.command(action, help=help_text)
    @click.argument("email")
    @pass_app
    def command(app: App, email: str) -> None:
        from models.db import sessions
        from rounds.admin import AdminError, change_status

        with sessions(app.ready_engine()).begin() as session:
            try:
                person = change_status(session, app.settings, email, action, app.now())
            except AdminError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"{person.email} is now {person.status}")


_status_command("pause", "Pause someone's introductions until you resume them.\n\n\b\nExample:\n  unmentoring participants pause sam@leeds.gov.uk")
_status_command("resume", "Bring a paused or suspended participant back.\n\n\b\nExample:\n  unmentoring participants resume sam@leeds.gov.uk")
_status_command("remove", "Mark someone as left: no more introductions or emails.\n\n\b\nExample:\n  unmentoring participants remove sam@leeds.gov.uk")


@main.group("config")
def config_group() -> None:
    """Check the settings file."""


@config_group.command("check")
@pass_app
def config_check(app: App) -> None:
    """Validate the settings, open the database and try to log in to IMAP and SMTP.

    \b
    Example:
      UNMENTORING_IMAP_PASSWORD=... unmentoring config check
    """
    from connection import with_advice

    settings = app.settings
    click.echo(f"settings: ok ({settings.source})")
    for warning in config_module.placeholders(settings):
        click.echo(f"warning: {warning}", err=True)
    failures = 0 if _check_database(app) else 1
    for label, part, attempt in (("IMAP", settings.imap, _try_imap), ("SMTP", settings.smtp, _try_smtp)):
        try:
            attempt(settings)
            click.echo(f"{label}: logged in to {part.host}:{part.port} ({part.tls})")
        except Exception as exc:
            failures += 1
            click.echo(with_advice(f"{label}: cannot log in to {part.host}:{part.port} ({part.tls}): {exc}",
                                   exc, label.lower()), err=True)
    if failures:
        sys.exit(1)


def _check_database(app: App) -> bool:
    """Open the database without creating it; one that needs `init` is not a failure before init."""
    shown = app.engine.url.render_as_string(hide_password=True)
    try:
        app.ready_engine()
    except NotSetUp as exc:
        click.echo(f"database: {exc.message}")
        return True
    except click.ClickException as exc:
        click.echo(f"database: {exc.message} ({shown})", err=True)
        return False
    click.echo(f"database: ready ({shown})")
    return True


def _try_imap(settings: Settings) -> None:
    from inbound.poller import connect
    from mailer.oauth import with_access_tokens

    config_module.require_login(settings, "imap")
    connect(with_access_tokens(settings).imap).logout()


def _try_smtp(settings: Settings) -> None:
    from mailer.oauth import with_access_tokens
    from mailer.send import connect

    connect(with_access_tokens(settings).smtp).quit()


@main.command()
@click.option("--keep", type=click.Path(file_okay=False), help="Folder for the demo's data, mail and report.")
@click.option("--people", default=40, show_default=True, help="How many people join.")
@click.option("--rounds", "rounds_", default=6, show_default=True, help="How many monthly rounds to simulate.")
@click.option("--seed", default=1, show_default=True, help="Seed for the simulated people's behaviour.")
def demo(keep: str | None, people: int, rounds_: int, seed: int) -> None:
    """Run the whole service on real (loopback) mail servers, with nothing to install or configure.

    \b
    Example:
      unmentoring demo --people 40 --rounds 6 --keep ./demo
    """
    from demo import run_demo

    if people < 4 or rounds_ < 1:
        raise click.ClickException("use at least 4 people and 1 round")
    run_demo(keep, people=people, rounds=rounds_, seed=seed)


main.add_command(report_command)
main.add_command(experiment_group)


if __name__ == "__main__":
    main()
