"""Introduce a round's groups: their match rows and the introduction each member gets, in bulk.

A round of 10,000 groups is 10,000 matches, 20,000 members and 20,000 outbox rows. Written as
ORM objects with a flush per group, the database work cost several times the emails themselves.
Here the emails are built exactly as `mailer.outbox.enqueue_group` builds them (`group_copies`),
chunk by chunk, and each chunk's rows (matches, members, outbox) go in with one executemany
INSERT per table, in a writer thread while the next chunk is rendered: the database works while
Python renders. All of it is in the caller's transaction, so a round is still opened whole or
not at all.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Sequence

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import Session

from config import Settings
from inbound.tokens import new_token
from mailer.compose import new_message_id
from mailer.outbox import group_copies, queue_rows
from models import Match, MatchMember, OutboundMessage, Participant, Round
from models.copy import copy_rows

CHUNK = 500
"""Groups whose emails are written at a time: bounds the memory they take (about 5 kB an email)."""

INTRO = "group/intro"
MATCHES, MEMBERS, OUTBOX = Match.__table__, MatchMember.__table__, OutboundMessage.__table__


def introduce_all(session: Session, settings: Settings, rnd: Round, groups: Sequence[Sequence[Participant]],
                  trio_extra: int | None, now: datetime) -> None:
    """Each group's match, its members and one introduction per member, in `rnd` (already flushed).
    `trio_extra`: the person whose turn it was to make a trio (recorded on a group of three)."""
    shared = round_context(settings, rnd)
    last_id = session.scalar(select(func.max(Match.id)).where(Match.round_id == rnd.id)) or 0
    with _Writer(session.connection(), rnd.id, trio_extra, now, last_id) as writer:
        for start in range(0, len(groups), CHUNK):
            chunk = groups[start:start + CHUNK]
            tokens = [new_token() for _ in chunk]
            message_ids = [new_message_id(INTRO.rpartition("/")[2], token, settings.service.domain) for token in tokens]
            emails = [group_copies(settings, template=INTRO, members=members, token=token, now=now,
                                   context={**shared, **members_context(members)}, message_id=message_id)
                      for members, token, message_id in zip(chunk, tokens, message_ids)]
            writer.put(Chunk(chunk, tokens, message_ids, emails))
    session.expire(rnd, ["matches"])


@dataclass(frozen=True)
class Chunk:
    """Some groups of the round, with their tokens and Message-IDs and each group's copies (no dedupe key
    yet: it names the match's id, which the writer learns when it inserts the match)."""

    groups: Sequence[Sequence[Participant]]
    tokens: list[str]
    message_ids: list[str]
    emails: list[list[dict[str, Any]]]


class _Writer:
    """Writes each `put` chunk (matches, members, outbox rows) in a thread of its own, one chunk at a
    time, while the caller renders the next. The caller must not use the connection in between;
    leaving waits for the last chunk, and a chunk's error is raised at the next `put` or on leaving
    (so the transaction is rolled back)."""

    def __init__(self, connection: Connection, round_id: int, trio_extra: int | None, now: datetime,
                 last_id: int) -> None:
        self.connection, self.round_id, self.trio_extra, self.now = connection, round_id, trio_extra, now
        self.last_id = last_id
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-round-writer")
        self.pending: Future[None] | None = None

    def put(self, chunk: Chunk) -> None:
        self._wait()
        self.pending = self.pool.submit(self._write, chunk)

    def _write(self, chunk: Chunk) -> None:
        match_ids = self._insert_matches(chunk)
        self._insert(MEMBERS, [{"match_id": match_id, "participant_id": p.id}
                               for match_id, members in zip(match_ids, chunk.groups) for p in members])
        for match_id, copies in zip(match_ids, chunk.emails):
            for copy in copies:
                copy["dedupe_key"] = f"intro:{match_id}:{copy['participant_id']}"
        rows = [copy for copies in chunk.emails for copy in copies]
        if self.connection.dialect.name == "postgresql":
            copy_rows(self.connection, OUTBOX, rows)
        else:
            queue_rows(self.connection, rows)

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """An executemany INSERT; on PostgreSQL a COPY, which costs it a fraction of one INSERT a row."""
        if self.connection.dialect.name == "postgresql":
            copy_rows(self.connection, table, rows)
        else:
            self.connection.execute(insert(table), rows)

    def _insert_matches(self, chunk: Chunk) -> list[int]:
        """The chunk's match rows; their ids read back by token (an executemany with RETURNING is much
        slower on PostgreSQL: psycopg parses each long statement)."""
        self._insert(MATCHES, [
            {"round_id": self.round_id, "token": token, "created_at": self.now, "intro_message_id": message_id,
             "odd_one_id": self.trio_extra if len(members) == 3 else None}
            for token, message_id, members in zip(chunk.tokens, chunk.message_ids, chunk.groups)])
        by_token = dict(self.connection.execute(select(Match.token, Match.id).where(
            Match.round_id == self.round_id, Match.id > self.last_id)).all())
        match_ids = [by_token[token] for token in chunk.tokens]
        self.last_id = max(self.last_id, *match_ids)
        return match_ids

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
