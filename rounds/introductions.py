"""Introduce a round's groups: their match rows and the introduction each member gets, in bulk.

A round of 10,000 groups is 10,000 matches, 20,000 members and 20,000 outbox rows. Written as
ORM objects with a flush per group, the database work cost several times the emails themselves.
Here the matches and members go in with two executemany INSERTs, and the emails, built exactly
as `mailer.outbox.enqueue_group` builds them (`group_copies`), go in chunk by chunk, each
chunk's INSERT running in a writer thread while the next chunk is rendered (the database works
while Python renders). All of it is in the caller's transaction, so a round is still opened
whole or not at all.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Any, Sequence

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from config import Settings
from inbound.tokens import new_token
from mailer.compose import new_message_id
from mailer.outbox import group_copies, queue_rows
from models import Match, MatchMember, Participant, Round

CHUNK = 500
"""Groups whose emails are written at a time: bounds the memory they take (about 5 kB an email)."""

INTRO = "group/intro"
MATCHES, MEMBERS = Match.__table__, MatchMember.__table__


def introduce_all(session: Session, settings: Settings, rnd: Round, groups: Sequence[Sequence[Participant]],
                  trio_extra: int | None, now: datetime) -> None:
    """Each group's match, its members and one introduction per member, in `rnd` (already flushed).
    `trio_extra`: the person whose turn it was to make a trio (recorded on a group of three)."""
    if not groups:
        return
    tokens = [new_token() for _ in groups]
    message_ids = [new_message_id(INTRO.rpartition("/")[2], token, settings.service.domain) for token in tokens]
    match_ids = _insert_matches(session, rnd, groups, tokens, message_ids, trio_extra, now)
    shared = round_context(settings, rnd)
    with _Writer(session.connection()) as writer:
        for start in range(0, len(groups), CHUNK):
            writer.put([row for at in range(start, min(start + CHUNK, len(groups))) for row in group_copies(
                settings, template=INTRO, members=groups[at], token=tokens[at], now=now,
                context={**shared, **members_context(groups[at])}, message_id=message_ids[at],
                dedupe_key=f"intro:{match_ids[at]}")])
    session.expire(rnd, ["matches"])


def _insert_matches(session: Session, rnd: Round, groups: Sequence[Sequence[Participant]], tokens: list[str],
                    message_ids: list[str], trio_extra: int | None, now: datetime) -> list[int]:
    """The groups' match and member rows; returns each match's id, read back by its token (an
    executemany with RETURNING is much slower on PostgreSQL: psycopg parses each long statement)."""
    before = session.scalar(select(func.max(Match.id)).where(Match.round_id == rnd.id)) or 0
    session.execute(insert(MATCHES), [
        {"round_id": rnd.id, "token": token, "created_at": now, "intro_message_id": message_id,
         "odd_one_id": trio_extra if len(members) == 3 else None}
        for token, message_id, members in zip(tokens, message_ids, groups)])
    by_token = dict(session.execute(select(Match.token, Match.id).where(Match.round_id == rnd.id, Match.id > before)).all())
    match_ids = [by_token[token] for token in tokens]
    session.execute(insert(MEMBERS), [{"match_id": match_id, "participant_id": p.id}
                                      for match_id, members in zip(match_ids, groups) for p in members])
    return match_ids


class _Writer:
    """Runs each `put` chunk's INSERT in a thread of its own, one at a time, while the caller builds the
    next. The caller must not use the connection in between; leaving waits for the last INSERT, and an
    INSERT's error is raised at the next `put` or on leaving (so the transaction is rolled back)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-round-writer")
        self.pending: Future[None] | None = None

    def put(self, rows: list[dict[str, Any]]) -> None:
        self._wait()
        self.pending = self.pool.submit(queue_rows, self.connection, rows)

    def _wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if error is None:
                self._wait()
            elif self.pending is not None:
                self.pending.exception()  # the caller's error wins; only wait until the connection is free
        finally:
            self.pool.shutdown(wait=True)


def round_context(settings: Settings, rnd: Round) -> dict[str, Any]:
    """What every group's email in a round says alike."""
    deadline = (rnd.closes_at or rnd.opened_at).astimezone(settings.tz).strftime("%A %-d %B")
    return {"deadline": deadline, "round_no": rnd.number}


def members_context(members: Sequence[Participant]) -> dict[str, Any]:
    names = _joined([p.name or p.email.split("@")[0] for p in members])
    greet = _joined([p.greeting_name or p.email.split("@")[0] for p in members])
    return {"members": members, "names": names, "greet": greet}


def group_context(settings: Settings, rnd: Round, members: Sequence[Participant]) -> dict[str, Any]:
    return {**members_context(members), **round_context(settings, rnd)}


def _joined(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
