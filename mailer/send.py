"""Deliver what is due in the outbox over one SMTP connection (the only module that speaks SMTP).

Each message is marked sent in its own commit right after the server accepts
it, so a crash can resend at most the one message that was in flight. That
commit runs in a writer thread while the next message's envelope and body go
out; the final "." that makes the server take the next message waits for it
(:func:`sendmail`'s ``barrier``), so the guarantee holds and the commit's fsync
costs no extra time. Rows are read a batch at a time (memory stays flat however
long the outbox), and each outcome is one small UPDATE and its commit.
"""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from config import SmtpSettings
from connection import with_advice
from mailer.oauth import xoauth2
from models import OutboundMessage, OutStatus, utcnow

MAX_ATTEMPTS = 12
SCRUB_AFTER_SENDING = {"forgotten"}
MAX_BACKOFF = timedelta(hours=6)
BATCH = 100


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Temporary(Exception):
    """The server said try later (4xx) or the connection broke."""


class Permanent(Exception):
    """The server refused for good (5xx)."""


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


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def transmit(client: smtplib.SMTP, row: OutboundMessage, barrier: Callable[[], None] = lambda: None) -> str:
    """Send one message; return a note about refused recipients (empty when all accepted)."""
    try:
        refused = sendmail(client, row.mail_from, row.recipient_list, row.raw, barrier)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = _refusals(exc.recipients)
        raise (Temporary(error) if all(400 <= c < 500 for c in codes) else Permanent(error)) from exc
    except smtplib.SMTPResponseException as exc:
        error = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
        raise (Permanent(error) if exc.smtp_code >= 500 else Temporary(error)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Temporary(f"connection: {exc}") from exc
    return _refusals(refused)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}" for rcpt, (code, msg) in refused.items())


LINE_START_DOT = re.compile(rb"(?m)^\.")


def sendmail(client: smtplib.SMTP, sender: str, recipients: list[str], raw: bytes,
             barrier: Callable[[], None]) -> dict[str, tuple[int, bytes]]:
    """smtplib's sendmail, with ``barrier()`` called just before the final "." of the data.

    Raises what smtplib.SMTP.sendmail raises; returns the refused recipients.
    """
    _no_delay(client)
    client.ehlo_or_helo_if_needed()
    options = [f"SIZE={len(raw)}"] if client.does_esmtp and client.has_extn("size") else []
    code, reply = client.mail(sender, options)
    if code != 250:
        _abandon(client, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for rcpt in recipients:
        code, reply = client.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
        if code == 421:
            client.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        _abandon(client, code)
        raise smtplib.SMTPRecipientsRefused(refused)
    _data(client, raw, barrier)
    return refused


def _no_delay(client: smtplib.SMTP) -> None:
    """The final "." goes out as a small write of its own; with Nagle's algorithm on, it would
    wait for the server's delayed ACK of the body (tens of milliseconds a message)."""
    if client.sock is not None:
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _data(client: smtplib.SMTP, raw: bytes, barrier: Callable[[], None]) -> None:
    client.putcmd("data")
    code, reply = client.getreply()
    if code != 354:
        _abandon(client, code)
        raise smtplib.SMTPDataError(code, reply)
    body = LINE_START_DOT.sub(b"..", raw)
    client.send(body if body.endswith(b"\r\n") else body + b"\r\n")
    try:
        barrier()
    except BaseException:
        client.close()  # mid-DATA: closing without the "." makes the server drop the message
        raise
    client.send(b".\r\n")
    code, reply = client.getreply()
    if code != 250:
        _abandon(client, code)
        raise smtplib.SMTPDataError(code, reply)


def _abandon(client: smtplib.SMTP, code: int) -> None:
    """After a refusal: close on 421 (the server is going away), else reset for the next message."""
    if code == 421:
        client.close()
        return
    try:
        client.rset()
    except smtplib.SMTPServerDisconnected:
        pass


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


def outcome_values(row: OutboundMessage, outcome: Exception | str, now: datetime) -> dict[str, Any]:
    """The columns an attempt changes: sent, failed for good, or retry later. Some kinds (FORGET's
    goodbye) are scrubbed, error text too, once sent or failed for good."""
    attempts = row.attempts + 1
    if isinstance(outcome, str):
        values: dict[str, Any] = {"status": OutStatus.SENT, "sent_at": now, "last_error": outcome}
    elif isinstance(outcome, Permanent) or attempts >= MAX_ATTEMPTS:
        values = {"status": OutStatus.FAILED, "last_error": str(outcome)}
    else:
        values = {"next_try_at": now + backoff(attempts), "last_error": str(outcome)}
    if row.kind in SCRUB_AFTER_SENDING and "status" in values:
        values |= {"raw": b"", "recipients": "", "rate_key": "", "subject": "", "last_error": ""}
    return {"attempts": attempts, **values}


def mark(engine: Engine, row: OutboundMessage, outcome: Exception | str, now: datetime) -> None:
    """One UPDATE, committed at once: the durable record that this attempt happened (still queued only).
    Core, not a Session: it runs once a message, in the writer thread, competing for the GIL."""
    with engine.begin() as connection:
        connection.execute(
            update(OutboundMessage).where(OutboundMessage.id == row.id, OutboundMessage.status == OutStatus.QUEUED)
            .values(outcome_values(row, outcome, now))
        )


class Marker:
    """Commits each outcome in a writer thread; :meth:`wait` blocks until the last one is durable."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-mark")
        self.pending: Future[None] | None = None

    def submit(self, row: OutboundMessage, outcome: Exception | str, now: datetime) -> None:
        self.wait()
        self.pending = self.pool.submit(mark, self.engine, row, outcome, now)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown(wait=True)


def deliver_due(
    Session_: sessionmaker[Session],
    smtp: SmtpSettings,
    now: Callable[[], datetime] = utcnow,
    connector: Callable[[SmtpSettings], smtplib.SMTP] = connect,
) -> SendReport:
    """Send every due message. When the server cannot be reached the rest wait for the next run."""
    report = SendReport()
    client: smtplib.SMTP | None = None
    pause = 60 / smtp.rate_per_minute if smtp.rate_per_minute else 0
    marker = Marker(Session_.kw["bind"])
    with Session_() as session:
        try:
            for n, row in enumerate(due_rows(session, now())):
                if pause and n:
                    time.sleep(pause)
                if client is None:
                    try:
                        client = connector(smtp)
                    except (smtplib.SMTPException, OSError) as exc:
                        failed = with_advice(f"cannot connect to {smtp.host}:{smtp.port}: {exc}", exc, "smtp")
                        report.errors.append(f"{failed}; the email waits for the next run")
                        break
                outcome = _send_one(client, row, marker.wait)
                if isinstance(outcome, Temporary) and str(outcome).startswith(("connection:", "421")):
                    _quit(client)
                    client = None
                _tally(report, outcome)
                marker.submit(row, outcome, now())
        finally:
            try:
                marker.close()
            finally:
                _quit(client)
    return report


def _send_one(client: smtplib.SMTP, row: OutboundMessage, barrier: Callable[[], None]) -> Exception | str:
    try:
        return transmit(client, row, barrier)
    except (Temporary, Permanent) as exc:
        return exc


def _tally(report: SendReport, outcome: Exception | str) -> None:
    if isinstance(outcome, str):
        report.sent += 1
    elif isinstance(outcome, Permanent):
        report.failed += 1
        report.errors.append(str(outcome))
    else:
        report.deferred += 1
        report.errors.append(str(outcome))


def _quit(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
