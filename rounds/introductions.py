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

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Collection, Sequence

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.orm import Session

from config import Settings
from inbound.tokens import new_token
from mailer.compose import new_message_id
from mailer.outbox import group_copies
from meetings.choose import choose_host, choose_starter, starter_lines
from meetings.offer import hosted_counts, offer_context, options_json, times_for, where_to_meet
from models import Match, MatchMember, OutboundMessage, Participant, Round
from models.copy import copy_rows, insert_rows
from trials.rounds import as_arms_say

if TYPE_CHECKING:
    from trials.rounds import RoundTrials

CHUNK = 500
"""Groups whose emails are written at a time: bounds the memory they take (about 5 kB an email)."""

INTRO = "group/intro"
MATCHES, MEMBERS, OUTBOX = Match.__table__, MatchMember.__table__, OutboundMessage.__table__


def introduce_all(session: Session, settings: Settings, rnd: Round, groups: Sequence[Sequence[Participant]],
                  extras: Collection[int], now: datetime, trials: RoundTrials | None = None) -> None:
    """Each group's match, its members and one introduction per member, in `rnd` (already flushed).
    `extras`: the people whose turn it was to take an odd role (recorded on their group); `trials`: whose
    copy leaves out the options or the starter (a trial arm)."""
    shared = round_context(settings, rnd)
    last_id = session.scalar(select(func.max(Match.id)).where(Match.round_id == rnd.id)) or 0
    helping = Helping.read(session, settings, rnd, groups, trials, now)
    with _Writer(session.connection(), rnd.id, now, last_id) as writer:
        for start in range(0, len(groups), CHUNK):
            chunk = groups[start:start + CHUNK]
            tokens = [new_token() for _ in chunk]
            message_ids = [new_message_id(INTRO.rpartition("/")[2], token, settings.service.domain) for token in tokens]
            meetings = [helping.meeting(members, token, start + n) for n, (members, token) in enumerate(zip(chunk, tokens))]
            emails = [group_copies(settings, template=INTRO, members=members, token=token, now=now,
                                   context={**shared, **members_context(members)}, message_id=message_id,
                                   personal=meeting.personal)
                      for members, token, message_id, meeting in zip(chunk, tokens, message_ids, meetings)]
            rows = [{"odd_one_id": next((p.id for p in members if p.id in extras), None), **meeting.columns}
                    for members, meeting in zip(chunk, meetings)]
            writer.put(Chunk(chunk, tokens, message_ids, emails, rows))
    session.expire(rnd, ["matches"])


@dataclass(frozen=True)
class Meeting:
    """What one group's introduction offers to help it meet: the match's columns, each member's own part."""

    columns: dict[str, Any]
    personal: dict[int, dict[str, Any]]


@dataclass
class Helping:
    """Everything the round's meeting help needs from the database, read before the writer starts (it
    then owns the connection): who hosted how often, and the starters each person was given before."""

    settings: Settings
    rnd: Round
    now: datetime
    hosted: dict[int, int]
    given: dict[int, set[str]]
    starters: list[str]
    trials: RoundTrials | None

    @classmethod
    def read(cls, session: Session, settings: Settings, rnd: Round, groups: Sequence[Sequence[Participant]],
             trials: RoundTrials | None, now: datetime) -> Helping:
        starters = starter_lines(settings.meetings.starters)
        given: dict[int, set[str]] = defaultdict(set)
        if starters:
            for pid, starter in session.execute(select(MatchMember.participant_id, Match.starter).join(
                    Match, Match.id == MatchMember.match_id).where(Match.starter != "")):
                given[pid].add(starter)
        return cls(settings, rnd, now, hosted_counts(session), given, starters, trials)

    def meeting(self, members: Sequence[Participant], token: str, n: int) -> Meeting:
        """The host (who hosted least), a starter nobody in the group had, times that suit all, and the place."""
        settings, seed = self.settings, self.rnd.seed
        host_id = choose_host([p.id for p in members], self.hosted, seed + n)
        self.hosted[host_id] = self.hosted.get(host_id, 0) + 1
        host = next(p for p in members if p.id == host_id)
        starter = ""
        if self.starters:
            starter = choose_starter(self.starters, set().union(*(self.given[p.id] for p in members)), seed + n)
            for p in members:
                self.given[p.id].add(starter)
        starts = times_for(settings, members, host_id, self.rnd.checkin_due, self.now)
        personal = as_arms_say(offer_context(settings, starts, members, host,
                                             where_to_meet(settings, members, host, token), starter), self.trials)
        return Meeting({"host_id": host_id, "starter": starter, "options": options_json(starts),
                        "options_at": self.now}, personal)


@dataclass(frozen=True)
class Chunk:
    """Some groups of the round, with their tokens and Message-IDs and each group's copies (no dedupe key
    yet: it names the match's id, which the writer learns when it inserts the match)."""

    groups: Sequence[Sequence[Participant]]
    tokens: list[str]
    message_ids: list[str]
    emails: list[list[dict[str, Any]]]
    rows: list[dict[str, Any]]      # each match's own columns: odd one, host, options, starter


class Writer:
    """Runs each `put` chunk's `_write` (a subclass's) in a thread of its own, one chunk at a time,
    while the caller renders the next. The caller must not use the connection in between; leaving
    waits for the last chunk, and a chunk's error is raised at the next `put` or on leaving (so the
    transaction is rolled back)."""

    def __init__(self, connection: Connection, name: str) -> None:
        self.connection = connection
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.pending: Future[None] | None = None

    def put(self, chunk: Any) -> None:
        self._wait()
        self.pending = self.pool.submit(self._write, chunk)

    def _write(self, chunk: Any) -> None:
        raise NotImplementedError

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """A COPY on PostgreSQL (a fraction of one INSERT a row), else one executemany on the driver's cursor."""
        if self.connection.dialect.name == "postgresql":
            copy_rows(self.connection, table, rows)
        else:
            insert_rows(self.connection, table, rows)

    def _wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if error is None:
                self._wait()
            elif self.pending is not None:
                self.pending.exception()  # the caller's error wins; only wait until the connection is free
        finally:
            self.pool.shutdown(wait=True)


class _Writer(Writer):
    """A round's introductions: each chunk's matches, members and outbox rows."""

    def __init__(self, connection: Connection, round_id: int, now: datetime, last_id: int) -> None:
        super().__init__(connection, "open-round-writer")
        self.round_id, self.now, self.last_id = round_id, now, last_id

    def _write(self, chunk: Chunk) -> None:
        match_ids = self._insert_matches(chunk)
        self._insert(MEMBERS, [{"match_id": match_id, "participant_id": p.id}
                               for match_id, members in zip(match_ids, chunk.groups) for p in members])
        for match_id, copies in zip(match_ids, chunk.emails):
            for copy in copies:
                copy["dedupe_key"] = f"intro:{match_id}:{copy['participant_id']}"
        self._insert(OUTBOX, [copy for copies in chunk.emails for copy in copies])

    def _insert_matches(self, chunk: Chunk) -> list[int]:
        """The chunk's match rows; their ids read back by token (an executemany with RETURNING is much
        slower on PostgreSQL: psycopg parses each long statement)."""
        self._insert(MATCHES, [
            {"round_id": self.round_id, "token": token, "created_at": self.now, "intro_message_id": message_id, **row}
            for token, message_id, row in zip(chunk.tokens, chunk.message_ids, chunk.rows)])
        by_token = dict(self.connection.execute(select(Match.token, Match.id).where(
            Match.round_id == self.round_id, Match.id > self.last_id)).all())
        match_ids = [by_token[token] for token in chunk.tokens]
        self.last_id = max(self.last_id, *match_ids)
        return match_ids


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
