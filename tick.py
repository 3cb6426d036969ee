"""The cron entry point's work: poll the inbox, run the round steps that are due, send.

A failure of one part does not stop the other: with the IMAP server down the
outbox is still sent, and the error is reported.
"""
from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from connection import with_advice
from inbound.poller import PollReport, poll
from mailer.headers import Unwritable
from mailer.send import SendReport, deliver_due
from mailer.oauth import TokenError, with_access_tokens
from models import utcnow
from models.db import sessions
from models.retention import purge
from report.digest import queue_digest
from rounds.lifecycle import Seeds, random_seed, run_due
from runlock import exclusive


@dataclass
class TickReport:
    poll: PollReport = field(default_factory=PollReport)
    send: SendReport = field(default_factory=SendReport)
    rounds: list[str] = field(default_factory=list)
    purged: int = 0
    errors: list[str] = field(default_factory=list)
    inbox_read: bool = False


def tick(engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow,
         seeds: Seeds = random_seed) -> TickReport:
    """Raises runlock.Busy when another run is working. `seeds` gives each scheduled draw its seed."""
    Session_ = sessions(engine)
    report = TickReport()
    with exclusive(settings.data_path, engine):
        signed_in = sign_in(settings, report)
        if signed_in is not None:
            read_inbox(Session_, signed_in, now, report)
        round_steps(Session_, settings, now(), seeds, report)
        digest(Session_, settings, now(), report)
        if signed_in is not None:
            report.send = deliver_due(Session_, signed_in.smtp, now=now)
            if report.send.stopped:
                report.errors.append(report.send.stopped)
        with Session_.begin() as session:
            report.purged = purge(session, now(), settings.service.retention_days, settings.service.unconfirmed_days)
        if settled(report):
            try:
                remember_quiet(engine, settings, now())
            except Exception:  # noqa: BLE001 - the next run is then a full one, which is always safe
                logging.getLogger(__name__).warning("could not note until when nothing is due", exc_info=True)
    return report


def settled(report: TickReport) -> bool:
    """Everything this run found was done: nothing failed, nothing was left in the inbox."""
    return (report.inbox_read and not report.errors and not report.poll.left and not report.poll.unfetched
            and not report.send.stopped)


def remember_quiet(engine: Engine, settings: Settings, now: datetime) -> None:
    """Write until when nothing is due (models/quiet.py), unless a change was committed since this
    transaction read the generation: then the next run is a full one."""
    from models.quiet import ROW, UNTRACKED, Quiet
    from quiet_tick import settings_key
    from rounds.next_due import next_due

    with engine.connect().execution_options(**{UNTRACKED: True}) as connection, connection.begin():
        generation = connection.scalar(select(Quiet.generation).where(Quiet.id == ROW))
        with Session(bind=connection) as session:
            until = next_due(session, settings, now)
        if generation is None or until <= now:
            return
        connection.execute(update(Quiet).where(Quiet.id == ROW, Quiet.generation == generation).values(
            until_at=int(until.timestamp()), checked_at=int(now.timestamp()), settings_key=settings_key(settings)))


def sign_in(settings: Settings, report: TickReport) -> Settings | None:
    """The settings to log in with: for oauth2 servers, with a current access token."""
    try:
        return with_access_tokens(settings)
    except TokenError as exc:
        report.errors.append(f"no OAuth token, so no mail is read or sent this run (none is lost): {exc}")
        return None


def read_inbox(Session_: sessionmaker[Session], settings: Settings, now: Callable[[], datetime],
               report: TickReport) -> None:
    imap = settings.imap
    secret = "the [oauth2] settings and the app's IMAP permission" if imap.auth == "oauth2" else "imap.password"
    try:
        report.poll = poll(Session_, settings, now=now)
        report.inbox_read = True
    except LoginError as exc:
        report.errors.append(f"IMAP login refused for {imap.user} at {imap.host}: check imap.user and {secret} ({exc})")
    except (IMAPClientError, OSError, socket.error) as exc:
        failed = with_advice(f"IMAP server {imap.host}:{imap.port} failed: {exc}", exc, "imap")
        report.errors.append(f"{failed}; unhandled mail stays in the inbox for the next run")


def round_steps(Session_: sessionmaker[Session], settings: Settings, now: datetime, seeds: Seeds,
                report: TickReport) -> None:
    """Open, nudge, check in, close. A step that fails is rolled back and reported, and the rest of the
    run (sending what is queued) goes on: one bad address or template must not stop all mail."""
    try:
        report.rounds = run_due(Session_, settings, now, seeds)
    except Unwritable as exc:
        report.errors.append(f"round step not taken, nothing of it saved: {exc}. Fix or remove that participant "
                             "(unmentoring participants remove EMAIL); the next run tries again")
    except Exception as exc:  # noqa: BLE001 - mail already queued must still go out
        report.errors.append(f"round step not taken, nothing of it saved ({type(exc).__name__}: {exc}); "
                             "the next run tries again")


def digest(Session_: sessionmaker[Session], settings: Settings, now: datetime, report: TickReport) -> None:
    """Queue the organiser's digest if a round has just closed. A failure here is reported, and the
    rest of the run (sending what is queued) goes on; the next run tries again."""
    try:
        with Session_.begin() as session:
            note = queue_digest(session, settings, now)
    except Exception as exc:  # noqa: BLE001 - the report is extra; mail must still go out
        report.errors.append(f"organiser digest not queued ({type(exc).__name__}: {exc}); "
                             "the next run tries again, or run: unmentoring report --out ./report")
        return
    if note:
        report.rounds.append(note)
