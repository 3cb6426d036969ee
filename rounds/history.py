"""Read what the matcher needs from the database: who is eligible, past pairs, odd-role turns.

At 100,000 people and three years of monthly rounds the history is millions of rows,
so the big reads select bare columns with Core (no ORM objects) and let the database
do the joining: `past_pairs` streams one row per pair straight into a
`matching.History`, and the latest report of each match is decided in SQL.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from matching import History, Person, organisation_key
from models import Match, MatchMember, Outcome, Participant, Round, SitOut, Status

STREAM_ROWS = 20_000  # rows per fetch when streaming the history (a server-side cursor on PostgreSQL)


def eligible(session: Session) -> list[Participant]:
    query = select(Participant).where(Participant.status == Status.ACTIVE).order_by(Participant.id)
    return list(session.scalars(query))


def odd_turns(session: Session) -> dict[int, int]:
    """How often each person was the trio's extra member or sat out for an odd number."""
    turns: dict[int, int] = defaultdict(int)
    trio = select(Match.odd_one_id, func.count()).where(Match.odd_one_id.is_not(None)).group_by(Match.odd_one_id)
    sat = select(SitOut.participant_id, func.count()).where(SitOut.reason == "odd").group_by(SitOut.participant_id)
    for pid, count in list(session.execute(trio)) + list(session.execute(sat)):
        turns[pid] += count
    return turns


def people_for_matching(session: Session, participants: list[Participant]) -> list[Person]:
    turns = odd_turns(session)
    return [Person(p.id, organisation_key(p.organisation, p.email), turns.get(p.id, 0)) for p in participants]


def match_outcomes(session: Session) -> dict[int, bool]:
    """Each match's latest report: True met, False not met (matches nobody reported on are absent).

    Reports come oldest first (by time, then id), so a later one overwrites an earlier one.
    """
    outcomes = Outcome.__table__.c
    query = select(outcomes.match_id, outcomes.met).order_by(outcomes.reported_at, outcomes.id)
    return {match_id: met for match_id, met in session.execute(query)}


def not_met_query() -> Select[tuple[int]]:
    """The matches whose latest report says not met: a not-met report with no met report after it."""
    report, later = Outcome.__table__.alias("report"), Outcome.__table__.alias("later")
    after = or_(later.c.reported_at > report.c.reported_at,
                (later.c.reported_at == report.c.reported_at) & (later.c.id > report.c.id))
    met_later = select(later.c.id).where(later.c.match_id == report.c.match_id, later.c.met.is_(True), after)
    return select(report.c.match_id).where(report.c.met.is_(False), ~met_later.exists())


def pairs_query() -> Select[tuple[int, int, int, int]]:
    """(a, b, round id, match id) for every two people introduced in the same match, a < b."""
    one, other = MatchMember.__table__.alias("one"), MatchMember.__table__.alias("other")
    matches = Match.__table__
    return (select(one.c.participant_id, other.c.participant_id, matches.c.round_id, one.c.match_id)
            .join(other, (other.c.match_id == one.c.match_id) & (other.c.participant_id > one.c.participant_id))
            .join(matches, matches.c.id == one.c.match_id))


def past_pairs(session: Session) -> History:
    """Every past introduction, indexed for `matching.make_groups`.

    A pair counts as met (True or unconfirmed) unless its match's latest report is
    not met, the one distinction `History` keeps; its age is its latest round.
    """
    number = {round_id: n for round_id, n in session.execute(select(Round.id, Round.number))}
    not_met = set(session.scalars(not_met_query()))
    history = History()
    record = history.record
    rows = session.execute(pairs_query(), execution_options={"yield_per": STREAM_ROWS})
    for a, b, round_id, match_id in rows:
        record(a, b, number[round_id], False if match_id in not_met else None)
    return history
