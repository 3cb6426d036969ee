"""The outbox's record of sending attempts (the database side; mailer/send.py speaks SMTP).

An attempt is recorded ("sending", committed) before the server is given the message, and
its end is recorded after. A run that finds a row still "sending" knows an earlier attempt
ended unseen (the run was killed, or the database refused the record) and that the server
may have the message: it tries once more, and after a second such attempt only the
organiser can send it again. Whatever fails, a recipient gets a message at most twice.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Sequence

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.orm import Session

from models import OutboundMessage, OutStatus

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(hours=6)
SCRUB_AFTER_SENDING = {"forgotten", "uninvited"}
"""Kinds whose every trace (error text too) goes once sent or failed for good: FORGET's goodbye."""
SCRUBBED = {"raw": b"", "recipients": "", "rate_key": "", "subject": "", "accepted": "", "rejected": "", "last_error": ""}
TWICE_UNSEEN = ("two attempts ended with no word back (a run cut short, the database refusing the record, "
                "or the connection lost after the data): it may have arrived twice, so it is not sent again; "
                "ask the recipient, or send it once more with `unmentoring outbox requeue ID`")


class End(StrEnum):
    """How an attempt ended, for the message as a whole."""

    DONE = "done"          # ran to its end: the per-recipient replies say who has it
    LATER = "later"        # nobody got it this time (4xx to the data, 421, a connection lost before the end)
    REFUSED = "refused"    # the message is refused for good (5xx to the data, or too big)
    UNKNOWN = "unknown"    # the connection was lost after the end of the data: the server may have it
    SESSION = "session"    # the server refuses us, not this message: nothing counts, it stays queued


@dataclass
class Outcome:
    end: End
    reply: str = ""
    accepted: list[str] = field(default_factory=list)
    later: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)


class Lost(RuntimeError):
    """A row changed under the run (it was no longer queued when claimed)."""


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def outcome_values(row: OutboundMessage, outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The columns an attempt's end changes. `row` holds the values from before the attempt."""
    if outcome.end is End.SESSION:
        return {"status": OutStatus.QUEUED, "attempts": row.attempts, "last_error": outcome.reply}
    attempts = row.attempts + 1
    accepted = lines(row.accepted) + (outcome.accepted if outcome.end is End.DONE else [])
    rejected = lines(row.rejected) + [f"{rcpt}\t{reply}" for rcpt, reply in outcome.rejected.items()]
    notes = "; ".join(f"{rcpt}: {reply}" for rcpt, reply in {**outcome.rejected, **outcome.later}.items())
    values = {"attempts": attempts, "accepted": "\n".join(accepted), "rejected": "\n".join(rejected),
              "last_error": outcome.reply or notes}
    done = set(accepted) | {line.split("\t")[0] for line in rejected}
    pending = [rcpt for rcpt in row.recipient_list if rcpt not in done]
    values |= _status(row, outcome, attempts, bool(accepted), bool(pending), now)
    if row.kind in SCRUB_AFTER_SENDING and values["status"] in (OutStatus.SENT, OutStatus.FAILED):
        values |= SCRUBBED
    return values


def _status(row: OutboundMessage, outcome: Outcome, attempts: int, accepted: bool, pending: bool,
            now: datetime) -> dict[str, Any]:
    if outcome.end is End.UNKNOWN and row.interrupted:
        return {"status": OutStatus.FAILED, "interrupted": row.interrupted + 1, "last_error": TWICE_UNSEEN}
    if outcome.end is End.UNKNOWN:
        return {"status": OutStatus.QUEUED, "interrupted": 1, "next_try_at": now + backoff(attempts)}
    if outcome.end is End.REFUSED or (not pending and not accepted):
        return {"status": OutStatus.FAILED}
    if not pending:
        return {"status": OutStatus.SENT, "sent_at": now}
    if attempts >= MAX_ATTEMPTS:
        return {"status": OutStatus.FAILED}
    return {"status": OutStatus.QUEUED, "next_try_at": now + backoff(attempts)}


def recover(engine: Engine) -> None:
    """Rows an earlier attempt left "sending": one more try, or after a second such attempt, none.
    Runs at the start of a run, under the run lock, so no other run is sending them now."""
    sending = OutboundMessage.status == OutStatus.SENDING
    with engine.begin() as connection:
        connection.execute(update(OutboundMessage).where(sending, OutboundMessage.interrupted >= 1)
                           .values(status=OutStatus.FAILED, interrupted=OutboundMessage.interrupted + 1,
                                   last_error=TWICE_UNSEEN))
        connection.execute(update(OutboundMessage).where(sending)
                           .values(status=OutStatus.QUEUED, interrupted=OutboundMessage.interrupted + 1))


_END = update(OutboundMessage).where(OutboundMessage.id == bindparam("row_id"),
                                     OutboundMessage.status == OutStatus.SENDING)
_CLAIM = update(OutboundMessage).where(OutboundMessage.id == bindparam("row_id"),
                                       OutboundMessage.status == OutStatus.QUEUED)


def record(engine: Engine, finished: tuple[OutboundMessage, Outcome] | None, claim: OutboundMessage | None,
           now: datetime) -> None:
    """One transaction: the end of the last attempt and the start of the next (one commit a message).
    Core statements built once, not a Session: it runs once a message, in the writer thread,
    competing for the GIL; the columns set are the parameters' keys."""
    with engine.begin() as connection:
        if finished is not None:
            row, outcome = finished
            connection.execute(_END, {"row_id": row.id, **outcome_values(row, outcome, now)})
        if claim is not None:
            claimed = connection.execute(
                _CLAIM, {"row_id": claim.id, "status": OutStatus.SENDING, "attempts": claim.attempts + 1}).rowcount
            if claimed != 1:
                raise Lost(f"email #{claim.id} was changed by something else while this run was sending it")


class Recorder:
    """Commits each attempt's record in a writer thread while the next message goes out.

    :meth:`claim` writes the last attempt's end together with the next one's start;
    :meth:`wait` blocks until that is durable (the message's final "." waits for it).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-record")
        self.pending: Future[None] | None = None
        self.finished: tuple[OutboundMessage, Outcome] | None = None

    def claim(self, row: OutboundMessage, now: datetime) -> None:
        self._submit(row, now)

    def finish(self, row: OutboundMessage, outcome: Outcome) -> None:
        self.finished = (row, outcome)

    def flush(self, now: datetime) -> None:
        """Record the last attempt's end and wait until it is durable."""
        if self.finished is not None:
            self._submit(None, now)
        self.wait()

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _submit(self, claim: OutboundMessage | None, now: datetime) -> None:
        self.wait()
        finished, self.finished = self.finished, None
        self.pending = self.pool.submit(record, self.engine, finished, claim, now)


def troubled(session: Session) -> list[dict[str, Any]]:
    """Failed mail, mail some recipients refused, and waiting mail that has been tried: what
    `unmentoring outbox` lists."""
    tried = (OutboundMessage.status == OutStatus.FAILED) | (OutboundMessage.rejected != "") | (
        OutboundMessage.status.in_([OutStatus.QUEUED, OutStatus.SENDING]) & (OutboundMessage.attempts > 0))
    rows = session.scalars(select(OutboundMessage).where(tried).order_by(OutboundMessage.id))
    return [_view(row) for row in rows]


def _view(row: OutboundMessage) -> dict[str, Any]:
    rejected = dict(line.split("\t", 1) for line in lines(row.rejected))
    return {"id": row.id, "status": row.status, "to": row.recipient_list, "subject": row.subject,
            "attempts": row.attempts, "next_try": row.next_try_at.isoformat(timespec="minutes"),
            "reason": row.last_error, "accepted": lines(row.accepted), "rejected": rejected}


def waiting_untried(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboundMessage.status == OutStatus.QUEUED,
                                                     OutboundMessage.attempts == 0)) or 0


def requeue(session: Session, ids: Sequence[int] | None, now: datetime) -> dict[int, str]:
    """Put failed emails (or sent ones some recipients refused) back in the queue, due now: the ids
    given, or (None) every failed one. A retry goes to the recipients who have not got it."""
    query = select(OutboundMessage).where(OutboundMessage.status == OutStatus.FAILED) if ids is None else \
        select(OutboundMessage).where(OutboundMessage.id.in_(ids))
    found = {row.id: row for row in session.scalars(query)}
    return {i: _requeue_one(found.get(i), now) for i in (sorted(found) if ids is None else ids)}


def _requeue_one(row: OutboundMessage | None, now: datetime) -> str:
    if row is None:
        return "no such email in the outbox"
    if row.status != OutStatus.FAILED and not (row.status == OutStatus.SENT and row.rejected):
        return f"not failed (it is {row.status}), left as it is"
    if not row.raw:
        return "its content was erased (service.retention_days, or a FORGET), so it cannot be sent"
    row.status, row.attempts, row.interrupted, row.rejected = OutStatus.QUEUED, 0, 0, ""
    row.next_try_at, row.last_error = now, ""
    return "queued again: the next run sends it"
