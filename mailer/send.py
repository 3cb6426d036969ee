"""Deliver what is due in the outbox over one SMTP connection (the only module that speaks SMTP).

Each message is marked sent in its own commit right after the server accepts
it, so a crash can resend at most the one message that was in flight.
"""
from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import SmtpSettings
from models import OutboundMessage, OutStatus, utcnow

MAX_ATTEMPTS = 12
SCRUB_AFTER_SENDING = {"forgotten"}
MAX_BACKOFF = timedelta(hours=6)


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
    if smtp.user:
        client.login(smtp.user, smtp.password)
    return client


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def transmit(client: smtplib.SMTP, row: OutboundMessage) -> str:
    """Send one message; return a note about refused recipients (empty when all accepted)."""
    try:
        refused = client.sendmail(row.mail_from, row.recipient_list, row.raw)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}" for rcpt, (code, msg) in exc.recipients.items())
        raise (Temporary(error) if all(400 <= c < 500 for c in codes) else Permanent(error)) from exc
    except smtplib.SMTPResponseException as exc:
        error = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
        raise (Permanent(error) if exc.smtp_code >= 500 else Temporary(error)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Temporary(f"connection: {exc}") from exc
    return "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}" for rcpt, (code, msg) in refused.items())


def due_ids(session: Session, now: datetime) -> list[int]:
    query = select(OutboundMessage.id).where(
        OutboundMessage.status == OutStatus.QUEUED, OutboundMessage.next_try_at <= now
    ).order_by(OutboundMessage.id)
    return list(session.scalars(query))


def record(session: Session, row: OutboundMessage, outcome: Exception | str, now: datetime) -> None:
    row.attempts += 1
    if isinstance(outcome, str):
        row.status, row.sent_at, row.last_error = OutStatus.SENT, now, outcome
        if row.kind in SCRUB_AFTER_SENDING:
            row.raw, row.recipients, row.subject = b"", "", ""
    elif isinstance(outcome, Permanent) or row.attempts >= MAX_ATTEMPTS:
        row.status, row.last_error = OutStatus.FAILED, str(outcome)
    else:
        row.next_try_at, row.last_error = now + backoff(row.attempts), str(outcome)


def deliver_due(
    Session_: sessionmaker[Session],
    smtp: SmtpSettings,
    now: Callable[[], datetime] = utcnow,
    connector: Callable[[SmtpSettings], smtplib.SMTP] = connect,
) -> SendReport:
    """Send every due message. When the server cannot be reached the rest wait for the next run."""
    report = SendReport()
    with Session_() as session:
        ids = due_ids(session, now())
    client: smtplib.SMTP | None = None
    pause = 60 / smtp.rate_per_minute if smtp.rate_per_minute else 0
    try:
        for n, row_id in enumerate(ids):
            if pause and n:
                time.sleep(pause)
            if client is None:
                try:
                    client = connector(smtp)
                except (smtplib.SMTPException, OSError) as exc:
                    report.errors.append(f"cannot connect to {smtp.host}:{smtp.port}: {exc}")
                    break
            outcome = _send_one(client, Session_, row_id)
            if isinstance(outcome, Temporary) and str(outcome).startswith(("connection:", "421")):
                _quit(client)
                client = None
            _tally(report, outcome)
            with Session_.begin() as session:
                row = session.get_one(OutboundMessage, row_id)
                if row.status == OutStatus.QUEUED:
                    record(session, row, outcome, now())
    finally:
        _quit(client)
    return report


def _send_one(client: smtplib.SMTP, Session_: sessionmaker[Session], row_id: int) -> Exception | str:
    with Session_() as session:
        row = session.get_one(OutboundMessage, row_id)
        session.expunge(row)
    try:
        return transmit(client, row)
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
