"""Remind a round's groups in bulk: the nudge (with fresh times for a group that has not booked) and
the check-in ("Did you meet?"), to every group due at once.

A round of 10,000 groups is 20,000 reminders. Queued one group at a time, each group cost a read of
its members, one of its introduction's subject and an ORM flush of its rows and of its times, which
cost several times the emails themselves. Here everything is read first (the groups, their members,
their people, the introductions' subjects: a few queries), then the emails are built as
`mailer.outbox.enqueue_group` builds them (`group_copies`), chunk by chunk, and the writer thread of
`rounds.introductions` queues each chunk's rows (and stores a nudge's times on its matches) while the
next chunk renders. All in the caller's transaction: a round's reminder is queued whole or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from config import Settings
from mailer.outbox import group_copies
from mailer.threads import reply_subject
from meetings.offer import offer_context, options_json, times_for, where_to_meet
from models import Match, MatchMember, OutboundMessage, Participant, Round
from rounds.history import ID_CHUNK
from rounds.introductions import OUTBOX, Writer, members_context, round_context

CHUNK = 500
"""Groups whose emails are written at a time, at most: bounds the memory they take (about 5 kB an email)."""
SMALL_CHUNK = 50
"""At least, unless CHUNK is smaller: a small round still comes in about ten chunks, so all but the
last chunk's writing overlaps the rendering (in two chunks, half of it would not)."""

NUDGE = "group/nudge"
_FRESH_TIMES = update(Match.__table__).where(Match.__table__.c.id == bindparam("match_id")).values(
    options=bindparam("options"), options_at=bindparam("options_at"))
_FRESH_TIMES_PG = text(
    "UPDATE matches SET options = fresh.options, options_at = :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:options AS text[])) AS fresh(id, options) WHERE matches.id = fresh.id"
).bindparams(bindparam("now", type_=Match.__table__.c.options_at.type))


@dataclass(frozen=True)
class Group:
    """What a reminder needs of a match (and what decides whether it gets one), read without the ORM."""

    id: int
    token: str
    host_id: int | None
    starter: str
    intro_message_id: str
    booked_start: datetime | None
    booking_state: str


def groups_of(session: Session, rnd: Round, ids: Sequence[int] | None = None) -> list[Group]:
    """The round's groups (or those of `ids`, a few), by id: as they were made."""
    c = Match.__table__.c
    query = select(c.id, c.token, c.host_id, c.starter, c.intro_message_id, c.booked_start, c.booking_state)
    query = query.where(c.round_id == rnd.id).order_by(c.id)
    if ids is not None:
        query = query.where(c.id.in_(sorted(ids)))
    return [Group(*row) for row in session.execute(query)]


def remind_all(session: Session, settings: Settings, rnd: Round, groups: Sequence[Group], template: str,
               now: datetime) -> int:
    """Queue `template` to each of `groups` (a nudge with fresh times, stored on its match); how many
    got it. A group with nobody left in it has no one to remind."""
    people = _Read.of(session, rnd, groups)
    due = [g for g in groups if people.members.get(g.id)]
    shared = round_context(settings, rnd)
    size = min(CHUNK, max(SMALL_CHUNK, -(-len(due) // 10)))
    with _Queue(session.connection()) as writer:
        for start in range(0, len(due), size):
            chunk = due[start:start + size]
            times = [_fresh_times(settings, rnd, g, people.members[g.id], now) if template == NUDGE else None
                     for g in chunk]
            emails = [_copies(settings, template, g, people, shared, starts, now) for g, starts in zip(chunk, times)]
            writer.put(([copy for copies in emails for copy in copies],
                        [{"match_id": g.id, "options": options_json(starts), "options_at": now}
                         for g, starts in zip(chunk, times) if starts is not None]))
    if template == NUDGE:
        _forget_times(session, {g.id for g in due})
    return len(due)


def _fresh_times(settings: Settings, rnd: Round, group: Group, members: Sequence[Participant],
                 now: datetime) -> list[datetime]:
    """As `meetings.offer.offer_times` finds them: from now until the round's check-in, the host's day first."""
    return times_for(settings, members, group.host_id, rnd.checkin_due, now)


def _copies(settings: Settings, template: str, group: Group, people: _Read, shared: dict[str, Any],
            starts: list[datetime] | None, now: datetime) -> list[dict[str, Any]]:
    """Each member's copy, as `enqueue_group` writes it: in the introduction's thread, under its subject."""
    members = people.members[group.id]
    personal = None
    if starts is not None:
        host = people.by_id.get(group.host_id) if group.host_id else None
        personal = offer_context(settings, starts, members, host, where_to_meet(
            settings, members, host or members[0], group.token), group.starter)
    thread = group.intro_message_id or None
    return group_copies(settings, template=template, members=members, token=group.token, now=now,
                        context={**members_context(members), **shared}, thread=thread,
                        subject=people.subjects.get(thread, "") if thread else "",
                        dedupe_key=f"{template}:{group.id}", personal=personal)


@dataclass(frozen=True)
class _Read:
    """Everything the reminders read, before the writer owns the connection: each group's members (as
    they were added), the people (members and hosts, whatever their status now) and the subject each
    introduction's thread carries (`Re: ...`)."""

    members: dict[int, list[Participant]]
    by_id: dict[int, Participant]
    subjects: dict[str, str]

    @classmethod
    def of(cls, session: Session, rnd: Round, groups: Sequence[Group]) -> _Read:
        ids = [g.id for g in groups]
        pairs: list[tuple[int, int]] = []
        for chunk in _chunks(ids):
            pairs += [(match_id, pid) for match_id, pid in session.execute(select(
                MatchMember.match_id, MatchMember.participant_id).where(MatchMember.match_id.in_(chunk)).order_by(
                MatchMember.id))]
        wanted = {pid for _, pid in pairs} | {g.host_id for g in groups if g.host_id}
        by_id = {p.id: p for chunk in _chunks(sorted(wanted))
                 for p in session.scalars(select(Participant).where(Participant.id.in_(chunk)))}
        members: dict[int, list[Participant]] = {}
        for match_id, pid in pairs:
            members.setdefault(match_id, []).append(by_id[pid])
        return cls(members, by_id, _subjects(session, [g.intro_message_id for g in groups if g.intro_message_id]))


def _subjects(session: Session, message_ids: list[str]) -> dict[str, str]:
    """`mailer.outbox.group_subject` for many threads: a copy's subject, as `Re: ...` (none when every
    copy of the introduction is gone or emptied)."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(message_ids))):
        found.update((message_id, reply_subject(subject)) for message_id, subject in session.execute(
            select(OutboundMessage.message_id, func.max(OutboundMessage.subject)).where(
                OutboundMessage.message_id.in_(chunk), OutboundMessage.subject != "").group_by(OutboundMessage.message_id)))
    return found


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    return (ids[start:start + ID_CHUNK] for start in range(0, len(ids), ID_CHUNK))


def _forget_times(session: Session, ids: set[int]) -> None:
    """The nudged matches the session holds are stale now (their times were written without it)."""
    for held in list(session.identity_map.values()):
        if isinstance(held, Match) and held.id in ids:
            session.expire(held, ["options", "options_at"])


class _Queue(Writer):
    """Each chunk: its outbox rows, and the fresh times of its groups on their matches (a nudge)."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, "remind-writer")

    def _write(self, chunk: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        rows, times = chunk
        self._insert(OUTBOX, rows)
        if not times:
            return
        if self.connection.dialect.name == "postgresql":  # one statement, not a round of UPDATE messages
            self.connection.execute(_FRESH_TIMES_PG, {"now": times[0]["options_at"], "ids": [t["match_id"] for t in times],
                                                      "options": [t["options"] for t in times]})
        else:
            self.connection.execute(_FRESH_TIMES, times)
