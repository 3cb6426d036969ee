"""Read what the matcher needs from the database: who is eligible, past pairs, odd-role turns.

At 100,000 people and three years of monthly rounds the history is millions of rows,
so the big reads select bare columns with Core (no ORM objects) and let the database
do the joining: `history_from_matches` streams one row per pair straight into a
`matching.History`, and the latest report of each match is decided in SQL. A draw
reads the index stored by `rounds.pair_index` instead, which is rebuilt from this.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, tzinfo
from typing import NamedTuple

from sqlalchemy import BigInteger, Select, case, func, literal, or_, select
from sqlalchemy.orm import Session

from matching import History, Person, mode_key, organisation_key, place_key
from matching.availability import utc_slots
from matching.history import ID_LIMIT
from models import Match, MatchMember, Outcome, Participant, Round, SitOut, Status

STREAM_ROWS = 20_000  # rows per fetch when streaming the history (a server-side cursor on PostgreSQL)
WINTER_WEEK = date(2026, 1, 5)  # where free hours are converted when no date is given
ID_CHUNK = 5_000  # ids per IN (...) list, well under SQLite's limit on bound values


class Candidate(NamedTuple):
    """What a draw needs of an active participant (the full row is loaded only to write to them)."""

    id: int
    email: str
    organisation: str
    skip_next: bool


def eligible(session: Session) -> list[Candidate]:
    """Everyone active, as bare columns: 100,000 ORM objects took over a second to build."""
    columns = (Participant.id, Participant.email, Participant.organisation, Participant.skip_next)
    query = select(*columns).where(Participant.status == Status.ACTIVE).order_by(Participant.id)
    return [Candidate(*row) for row in session.execute(query)]


def active_by_id(session: Session, ids: Iterable[int]) -> dict[int, Participant]:
    """The participants a draw placed, as ORM objects for the emails and rows that follow.

    Read by id, not status: on PostgreSQL an organiser's `participants pause` may commit
    between the draw and this read, and the round goes ahead with the draw as made.
    """
    wanted, found = sorted(set(ids)), {}
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start:start + ID_CHUNK]
        found.update((p.id, p) for p in session.scalars(select(Participant).where(Participant.id.in_(chunk))))
    return found


def odd_turns(session: Session) -> dict[int, int]:
    """How often each person was the trio's extra member or sat out for an odd number."""
    turns: dict[int, int] = defaultdict(int)
    trio = select(Match.odd_one_id, func.count()).where(Match.odd_one_id.is_not(None)).group_by(Match.odd_one_id)
    sat = select(SitOut.participant_id, func.count()).where(SitOut.reason == "odd").group_by(SitOut.participant_id)
    for pid, count in list(session.execute(trio)) + list(session.execute(sat)):
        turns[pid] += count
    return turns


def people_for_matching(session: Session, participants: list[Candidate], zone: tzinfo = UTC,
                        week_of: date | None = None) -> list[Person]:
    """The matcher's people; those who said when or how they can meet carry it, their free hours
    converted to UTC for the week of ``week_of`` (their own time zone, else ``zone``)."""
    turns = odd_turns(session)
    prefs = meeting_prefs(session)
    week = week_of or WINTER_WEEK
    people = []
    for p in participants:
        person = Person(p.id, organisation_key(p.organisation, p.email), turns.get(p.id, 0))
        row = prefs.get(p.id)
        if row is not None:
            person = replace(person, slots=utc_slots(row.availability, row.time_zone, zone, week),
                             mode=mode_key(row.meet_mode), place=place_key(row.place))
        people.append(person)
    return people


class MeetingRow(NamedTuple):
    availability: str
    meet_mode: str
    place: str
    time_zone: str


def meeting_prefs(session: Session) -> dict[int, MeetingRow]:
    """When and how the active people who said so can meet (most say nothing: they are not read)."""
    c = Participant
    stated = or_(c.availability != "", c.meet_mode != "", c.place != "")
    query = select(c.id, c.availability, c.meet_mode, c.place, c.time_zone).where(c.status == Status.ACTIVE, stated)
    return {pid: MeetingRow(*rest) for pid, *rest in session.execute(query)}


def match_outcomes(session: Session, matches: Iterable[int] | None = None) -> dict[int, bool]:
    """Each match's latest report: True met, False not met (matches nobody reported on are absent).

    Reports come oldest first (by time, then id), so a later one overwrites an earlier one.
    `matches`: only these (a few ids); None: every match.
    """
    outcomes = Outcome.__table__.c
    query = select(outcomes.match_id, outcomes.met).order_by(outcomes.reported_at, outcomes.id)
    if matches is not None:
        query = query.where(outcomes.match_id.in_(sorted(set(matches))))
    return {match_id: met for match_id, met in session.execute(query)}


def not_met_query() -> Select[tuple[int]]:
    """The matches whose latest report says not met: a not-met report with no met report after it."""
    report, later = Outcome.__table__.alias("report"), Outcome.__table__.alias("later")
    after = or_(later.c.reported_at > report.c.reported_at,
                (later.c.reported_at == report.c.reported_at) & (later.c.id > report.c.id))
    met_later = select(later.c.id).where(later.c.match_id == report.c.match_id, later.c.met.is_(True), after)
    return select(report.c.match_id).where(report.c.met.is_(False), ~met_later.exists())


def pairs_query() -> Select[tuple[int, int]]:
    """Every two people introduced in the same match, packed as `History.add_packed` takes them.

    The key is ``a << 32 | b`` (a < b) and the value ``round number << 1 | counts as met``,
    written as arithmetic both SQLite and PostgreSQL evaluate on 64-bit integers.
    """
    one, other = MatchMember.__table__.alias("one"), MatchMember.__table__.alias("other")
    matches, rounds = Match.__table__, Round.__table__
    key = one.c.participant_id * literal(ID_LIMIT, BigInteger) + other.c.participant_id
    met = case((one.c.match_id.in_(not_met_query()), 0), else_=1)
    return (select(key, rounds.c.number * 2 + met)
            .join(other, (other.c.match_id == one.c.match_id) & (other.c.participant_id > one.c.participant_id))
            .join(matches, matches.c.id == one.c.match_id)
            .join(rounds, rounds.c.id == matches.c.round_id))


def history_from_matches(session: Session) -> History:
    """Every past introduction, indexed for `matching.make_groups`, rebuilt from every match.

    The draw reads the stored index instead (`rounds.pair_index.past_pairs`); this is what
    that index is rebuilt from and checked against.

    A pair counts as met (True or unconfirmed) unless its match's latest report is
    not met, the one distinction `History` keeps; its age is its latest round.
    Read through the DB-API cursor (a server-side one on PostgreSQL, so the rows stream):
    at millions of rows, building SQLAlchemy `Row`s cost a third of the time, and the
    query has no parameters to bind (only constants).
    """
    session.flush()
    history = History()
    connection = session.connection()
    sql = str(pairs_query().compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    server_side = {"name": "past_pairs"} if connection.dialect.name == "postgresql" else {}
    cursor = connection.connection.cursor(**server_side)
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(STREAM_ROWS):
            history.add_packed(batch)
    finally:
        cursor.close()
    return history
