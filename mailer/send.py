"""Deliver what is due in the outbox over one SMTP connection (the only module that speaks SMTP).

Each attempt is recorded before the server is given the message, and its end after
(mailer/attempts.py), so whatever fails a message reaches a recipient at most twice. The
records are committed in a writer thread while the next message's envelope and body go out;
the final "." that makes the server take a message waits for the commit recording its start
(:func:`sendmail`'s ``barrier``), so that commit's fsync costs no extra time. When the database
refuses a record, the message in flight is dropped before its "." and the run stops sending.

Replies are read per recipient (a 4xx retries only that recipient, a 5xx fails only them) and
told apart from refusals of the whole session (a refused MAIL FROM or login, no server), which
stop the run and leave every email queued. Rows are read a batch at a time (memory stays flat
however long the outbox).
"""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from config import SmtpSettings
from connection import with_advice
from mailer.attempts import End, Lost, Outcome, Recorder, outcome_values, recover
from mailer.oauth import xoauth2
from models import OutboundMessage, OutStatus, utcnow

BATCH = 100
LOGIN_REFUSED = {530, 534, 535, 538}
"""Replies meaning "log in first" or "not with those credentials": the whole session is refused."""


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""
    """Why this run stopped sending before the end, and what to do: one line, or empty."""


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context() if smtp.tls != "none" else None
    if smtp.tls == "implicit":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    if smtp.tls == "starttls":
        client.starttls(context=context)
    if smtp.auth == "oauth2":
        client.ehlo_or_helo_if_needed()
        initial = xoauth2(smtp.user, smtp.password)
        client.auth("XOAUTH2", lambda challenge=None: "" if challenge else initial)
    elif smtp.user:
        client.login(smtp.user, smtp.password)
    return client


def reply_text(code: int, reply: bytes | str) -> str:
    return f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}".strip()


def transmit(client: smtplib.SMTP, row: OutboundMessage, barrier: Callable[[], None] = lambda: None) -> Outcome:
    """One attempt at `row`, to the recipients who have not got it yet. A connection that breaks
    is closed (``client.sock`` is then None). What ``barrier`` raises is raised."""
    try:
        return sendmail(client, row.mail_from, row.pending, row.raw, barrier)
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        return Outcome(End.LATER, f"connection: {exc}")


LINE_START_DOT = re.compile(rb"(?m)^\.")


def sendmail(client: smtplib.SMTP, sender: str, recipients: list[str], raw: bytes,
             barrier: Callable[[], None]) -> Outcome:
    """smtplib's sendmail, reading every reply, with ``barrier()`` called just before the final "."."""
    _no_delay(client)
    client.ehlo_or_helo_if_needed()
    options = [f"SIZE={len(raw)}"] if client.does_esmtp and client.has_extn("size") else []
    code, reply = client.mail(sender, options)
    if code != 250:
        _abandon(client, code)
        too_big = code == 552 or b"5.3.4" in reply
        return Outcome(End.REFUSED if too_big else End.SESSION, reply_text(code, reply))
    outcome = Outcome(End.DONE)
    for rcpt in recipients:
        code, reply = client.rcpt(rcpt)
        if code == 421 or code in LOGIN_REFUSED:
            _abandon(client, code)
            return Outcome(End.LATER if code == 421 else End.SESSION, reply_text(code, reply))
        if code in (250, 251):
            outcome.accepted.append(rcpt)
        else:
            (outcome.rejected if code >= 500 else outcome.later)[rcpt] = reply_text(code, reply)
    if not outcome.accepted:
        _abandon(client, code)
        return outcome
    return _data(client, raw, barrier, outcome)


def _no_delay(client: smtplib.SMTP) -> None:
    """The final "." goes out as a small write of its own; with Nagle's algorithm on, it would
    wait for the server's delayed ACK of the body (tens of milliseconds a message)."""
    if client.sock is not None:
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _data(client: smtplib.SMTP, raw: bytes, barrier: Callable[[], None], outcome: Outcome) -> Outcome:
    client.putcmd("data")
    code, reply = client.getreply()
    if code != 354:
        _abandon(client, code)
        return _refused_data(code, reply, outcome)
    body = LINE_START_DOT.sub(b"..", raw)
    client.send(body if body.endswith(b"\r\n") else body + b"\r\n")
    try:
        barrier()
    except BaseException:
        client.close()  # mid-DATA: closing without the "." makes the server drop the message
        raise
    client.send(b".\r\n")
    try:
        code, reply = client.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        client.close()
        return Outcome(End.UNKNOWN, f"connection lost after the data was sent: {exc}", later=outcome.later,
                       rejected=outcome.rejected)
    if code != 250:
        _abandon(client, code)
        return _refused_data(code, reply, outcome)
    return outcome


def _refused_data(code: int, reply: bytes, outcome: Outcome) -> Outcome:
    """A refusal of the data is for the message as a whole (the refused recipients stay on record)."""
    if code in LOGIN_REFUSED:
        return Outcome(End.SESSION, reply_text(code, reply))
    end = End.REFUSED if code >= 500 else End.LATER
    return Outcome(end, reply_text(code, reply), later=outcome.later, rejected=outcome.rejected)


def _abandon(client: smtplib.SMTP, code: int) -> None:
    """After a refusal: close on 421 (the server is going away), else reset for the next message."""
    if code == 421:
        client.close()
        return
    try:
        client.rset()
    except (smtplib.SMTPServerDisconnected, OSError):
        client.close()


def due_rows(session: Session, now: datetime, batch: int = BATCH) -> Iterator[OutboundMessage]:
    """What was due at `now`: round mail and answers to members first, then answers to people not taking
    part (a flood of forged JOINs must not stand before introductions when the quota or rate runs out);
    each in id order, read `batch` rows per query (each its own short transaction)."""
    for stranger in (False, True):
        yield from _due_rows(session, now, batch, stranger)


def _due_rows(session: Session, now: datetime, batch: int, stranger: bool) -> Iterator[OutboundMessage]:
    after = 0
    while True:
        query = select(OutboundMessage).where(
            OutboundMessage.status == OutStatus.QUEUED, OutboundMessage.next_try_at <= now,
            OutboundMessage.stranger.is_(stranger), OutboundMessage.id > after,
        ).order_by(OutboundMessage.id).limit(batch)
        rows = list(session.scalars(query))
        session.expunge_all()  # detached but loaded: a commit cannot expire them, nothing tracks them
        session.commit()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


class Stop(Exception):
    """The run stops sending; the message is the one line for the organiser."""


def deliver_due(
    Session_: sessionmaker[Session],
    smtp: SmtpSettings,
    now: Callable[[], datetime] = utcnow,
    connector: Callable[[SmtpSettings], smtplib.SMTP] = connect,
) -> SendReport:
    """Send every due message, until the server or the database refuses the whole run: then
    the rest wait, queued, for the next run, and `report.stopped` says what to do.
    Call it under the run lock (runlock.exclusive): it takes over what an earlier run left."""
    report = SendReport()
    recorder = Recorder(Session_.kw["bind"])
    try:
        recover(Session_.kw["bind"])
        try:
            _send_all(Session_, smtp, now, connector, recorder, report)
        finally:
            recorder.flush(now())
    except Stop as exc:
        report.stopped = str(exc)
    except (DBAPIError, Lost) as exc:
        report.stopped = database_refused(exc)
    finally:
        recorder.close()
    return report


def _send_all(Session_: sessionmaker[Session], smtp: SmtpSettings, now: Callable[[], datetime],
              connector: Callable[[SmtpSettings], smtplib.SMTP], recorder: Recorder, report: SendReport) -> None:
    client: smtplib.SMTP | None = None
    pause = 60 / smtp.rate_per_minute if smtp.rate_per_minute else 0
    try:
        with Session_() as session:
            for n, row in enumerate(due_rows(session, now())):
                if pause and n:
                    time.sleep(pause)
                if client is None or client.sock is None:
                    client = _connect(smtp, connector)
                recorder.claim(row, now())
                outcome = transmit(client, row, recorder.wait)
                recorder.finish(row, outcome)
                if outcome.end is End.SESSION:
                    raise Stop(session_refused(smtp, row, outcome.reply))
                _tally(report, row, outcome, now())
    finally:
        _quit(client)


def _connect(smtp: SmtpSettings, connector: Callable[[SmtpSettings], smtplib.SMTP]) -> smtplib.SMTP:
    try:
        return connector(smtp)
    except smtplib.SMTPAuthenticationError as exc:
        secret = "the [oauth2] settings and the app's SMTP permission" if smtp.auth == "oauth2" else "smtp.password"
        raise Stop(f"the SMTP server refused the login for {smtp.user} "
                   f"({reply_text(exc.smtp_code, exc.smtp_error)}): check smtp.user and {secret}; "
                   "nothing was sent, every email waits for the next run") from exc
    except (smtplib.SMTPException, OSError) as exc:
        failed = with_advice(f"cannot connect to {smtp.host}:{smtp.port}: {exc}", exc, "smtp")
        raise Stop(f"{failed}; nothing more was sent, every email waits for the next run") from exc


def session_refused(smtp: SmtpSettings, row: OutboundMessage, reply: str) -> str:
    login = "smtp.user and smtp.password" if smtp.user else "smtp.user and smtp.password (none are set)"
    return (f"the SMTP server refuses to send for us ({reply}, from {row.mail_from}): sending stopped and every "
            f"email stays queued; check the account's sending limits and {login}"
            f"{', or turn smtp.verp off' if '+b-' in row.mail_from else ''}, then the next run tries again")


def database_refused(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    words = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__
    return (f"the database refused to record an email's sending ({words}): sending stopped so that nothing "
            "goes twice; once the database takes writes again (disk space, a read-only standby after a "
            "failover, a lock held by another program) the next run goes on, sending at most the one email "
            "in flight again")


def _tally(report: SendReport, row: OutboundMessage, outcome: Outcome, now: datetime) -> None:
    values = outcome_values(row, outcome, now)
    if values["status"] == OutStatus.SENT:
        report.sent += 1
    elif values["status"] == OutStatus.FAILED:
        report.failed += 1
    else:
        report.deferred += 1
    if values["last_error"]:
        report.errors.append(f"#{row.id} to {', '.join(row.recipient_list)}: {values['last_error']}")


def _quit(client: smtplib.SMTP | None) -> None:
    if client is None or client.sock is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
