"""Deliver what is due in the outbox over one SMTP connection (the only module that speaks SMTP).

Each message is marked sent in its own commit right after the server accepts
it, so a crash can resend at most the one message that was in flight. Rows are
read a batch at a time (memory stays flat however long the outbox) through one
session, and each outcome is one small UPDATE and its commit.
"""
from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from config import SmtpSettings
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


def due_rows(session: Session, now: datetime, batch: int = BATCH) -> Iterator[OutboundMessage]:
    """What was due at `now`, in id order, read `batch` rows per query (each its own short transaction)."""
    after = 0
    while True:
        query = select(OutboundMessage).where(
            OutboundMessage.status == OutStatus.QUEUED, OutboundMessage.next_try_at <= now, OutboundMessage.id > after
        ).order_by(OutboundMessage.id).limit(batch)
        rows = list(session.scalars(query))
        session.expunge_all()  # detached but loaded: a commit cannot expire them, nothing tracks them
        session.commit()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def outcome_values(row: OutboundMessage, outcome: Exception | str, now: datetime) -> dict[str, Any]:
    """The columns an attempt changes: sent (scrubbed for some kinds), failed for good, or retry later."""
    attempts = row.attempts + 1
    if isinstance(outcome, str):
        values: dict[str, Any] = {"status": OutStatus.SENT, "sent_at": now, "last_error": outcome}
        if row.kind in SCRUB_AFTER_SENDING:
            values |= {"raw": b"", "recipients": "", "subject": ""}
    elif isinstance(outcome, Permanent) or attempts >= MAX_ATTEMPTS:
        values = {"status": OutStatus.FAILED, "last_error": str(outcome)}
    else:
        values = {"next_try_at": now + backoff(attempts), "last_error": str(outcome)}
    return {"attempts": attempts, **values}


def mark(session: Session, row: OutboundMessage, outcome: Exception | str, now: datetime) -> None:
    """One UPDATE, committed at once: the durable record that this attempt happened (still queued only)."""
    session.execute(
        update(OutboundMessage).where(OutboundMessage.id == row.id, OutboundMessage.status == OutStatus.QUEUED)
        .values(outcome_values(row, outcome, now)).execution_options(synchronize_session=False)
    )
    session.commit()


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
    with Session_() as session:
        try:
            for n, row in enumerate(due_rows(session, now())):
                if pause and n:
                    time.sleep(pause)
                if client is None:
                    try:
                        client = connector(smtp)
                    except (smtplib.SMTPException, OSError) as exc:
                        report.errors.append(f"cannot connect to {smtp.host}:{smtp.port}: {exc}")
                        break
                outcome = _send_one(client, row)
                if isinstance(outcome, Temporary) and str(outcome).startswith(("connection:", "421")):
                    _quit(client)
                    client = None
                _tally(report, outcome)
                mark(session, row, outcome, now())
        finally:
            _quit(client)
    return report


def _send_one(client: smtplib.SMTP, row: OutboundMessage) -> Exception | str:
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
