"""Read what the matcher needs from the database: who is eligible, past pairs, odd-role turns."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import combinations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import PastPair, Person, organisation_key
from models import Match, MatchMember, Outcome, Participant, Round, SitOut, Status


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
    """Each match's latest report: True met, False not met (matches nobody reported on are absent)."""
    latest: dict[int, tuple[datetime, int, bool]] = {}
    for match_id, at, oid, met in session.execute(select(Outcome.match_id, Outcome.reported_at, Outcome.id, Outcome.met)):
        if match_id not in latest or (at, oid) > latest[match_id][:2]:
            latest[match_id] = (at, oid, met)
    return {match_id: value[2] for match_id, value in latest.items()}


def past_pairs(session: Session) -> list[PastPair]:
    outcomes = match_outcomes(session)
    members: dict[int, list[int]] = defaultdict(list)
    round_of: dict[int, int] = {}
    query = select(MatchMember.match_id, MatchMember.participant_id, Round.number).join(
        Match, Match.id == MatchMember.match_id).join(Round, Round.id == Match.round_id)
    for match_id, pid, number in session.execute(query):
        members[match_id].append(pid)
        round_of[match_id] = number
    return [
        PastPair(a, b, round_of[mid], outcomes.get(mid))
        for mid, ids in members.items()
        for a, b in combinations(sorted(ids), 2)
    ]
