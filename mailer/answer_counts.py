"""The answers the limits count (`outbox.sent_today`, `outbox.strangers_answered`), read once per batch.

Asked message by message, the two limits are one or two round trips each, a fifth of the
poller's statements on PostgreSQL (docs/benchmarks.md). So the poller loads, for a whole
batch, the last day's answers to its senders and how many answers strangers had in the last
hour, with the times of those that leave that hour within the next `LEAVING` (`load`: a count,
not every row, which under a backlog of JOINs was thousands a batch). Every email queued after
that in the same session is counted in as it is written (`written`, from the outbox's two
writers), and after a message fails the counts are dropped and asked of the database again
(`forget`). An address not loaded, or a time before the load's or more than `LEAVING` after
it, is asked of the database. Without `load` (any other caller) every count is a query.
An answer another process queues while a batch runs is counted from the next batch on (one
`tick` runs at a time, and a batch is at most `imap.batch_size` messages).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from models import OutboundMessage

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
LEAVING = timedelta(minutes=10)  # far longer than a batch takes
_COUNTS = "mailer.answer_counts"
_TO = select(OutboundMessage.rate_key, OutboundMessage.kind, OutboundMessage.in_reply_to.is_not(None),
             OutboundMessage.created_at).where(
    OutboundMessage.rate_key.in_(bindparam("keys", expanding=True)), OutboundMessage.created_at > bindparam("since"))
_LEAVES = case((OutboundMessage.created_at <= bindparam("until"), OutboundMessage.created_at))
_STRANGERS = select(_LEAVES, func.count()).where(
    OutboundMessage.stranger.is_(True), OutboundMessage.created_at > bindparam("since")).group_by(_LEAVES)


@dataclass
class _Sent:
    since: datetime  # the load's `now`: counts for a later `now` only
    to: dict[str, list[tuple[str, bool, datetime]]]  # rate key -> (kind, an answer?, created at) in the last day
    strangers: int  # in the hour before `since`, and written since
    leaving: list[datetime]  # created at, sorted, of those that leave the hour by `since + LEAVING`


def load(session: Session, keys: Iterable[str], now: datetime) -> None:
    """Read the counts for these rate keys (`outbox.rate_key`) as of `now` into the session."""
    wanted = list(set(keys))
    to: dict[str, list[tuple[str, bool, datetime]]] = {key: [] for key in wanted}
    if wanted:
        for key, kind, answer, created_at in session.execute(_TO, {"keys": wanted, "since": now - DAY}):
            to[key].append((kind, answer, created_at))
    rows = session.execute(_STRANGERS, {"since": now - HOUR, "until": now - HOUR + LEAVING}).all()
    leaving = sorted(at for at, count in rows for _ in range(count) if at is not None)
    session.info[_COUNTS] = _Sent(now, to, sum(count for _, count in rows), leaving)


def forget(session: Session) -> None:
    session.info.pop(_COUNTS, None)


def sent(session: Session, key: str, now: datetime, kind: str | None) -> int | None:
    """Answers (of `kind`, or any) to this rate key in the day before `now`; None when not loaded."""
    counts: _Sent | None = session.info.get(_COUNTS)
    if counts is None or key not in counts.to or now < counts.since:
        return None
    since = now - DAY
    return sum(1 for sent_kind, answer, at in counts.to[key]
               if at > since and (sent_kind == kind if kind else answer))


def strangers(session: Session, now: datetime) -> int | None:
    """Answers to strangers in the hour before `now`; None when not loaded."""
    counts: _Sent | None = session.info.get(_COUNTS)
    if counts is None or not counts.since <= now <= counts.since + LEAVING:
        return None
    return counts.strangers - bisect_right(counts.leaving, now - HOUR)


def written(session: Session, rows: Iterable[OutboundMessage]) -> None:
    """Count emails just queued in this session (the outbox's writers call it for every row)."""
    counts: _Sent | None = session.info.get(_COUNTS)
    if counts is None:
        return
    for row in rows:
        if row.rate_key in counts.to:
            counts.to[row.rate_key].append((row.kind, row.in_reply_to is not None, row.created_at))
        if row.stranger:
            counts.strangers += 1
