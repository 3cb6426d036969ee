"""People who never answer: asked "still in?" after two silent rounds, paused after a third.

Silent in a round means: nobody in their group reported, and they sent us
nothing while the round ran (auto-replies do not count). Any email from them,
even "yes", keeps them in.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from mailer.outbox import enqueue
from models import AuditEvent, InboundMessage, Match, MatchMember, Participant, Round, Status
from rounds.history import match_outcomes

ASK_AFTER = 2
PAUSE_AFTER = 3


def silent_in(session: Session, rnd: Round, reported: set[int]) -> set[int]:
    members = session.execute(
        select(MatchMember.participant_id, MatchMember.match_id).join(Match).where(Match.round_id == rnd.id)
    ).all()
    end = rnd.closed_at or rnd.opened_at
    heard = set(session.scalars(select(InboundMessage.participant_id).where(
        InboundMessage.participant_id.is_not(None), InboundMessage.action != "ignored-robot",
        InboundMessage.received_at >= rnd.opened_at, InboundMessage.received_at <= end,
    )))
    return {pid for pid, mid in members if mid not in reported and pid not in heard}


def silent_streaks(session: Session, closing: Round) -> dict[int, int]:
    """For everyone silent in the closing round: how many rounds in a row they have been silent."""
    reported = set(match_outcomes(session))
    recent = list(session.scalars(
        select(Round).where(Round.number <= closing.number).order_by(Round.number.desc()).limit(PAUSE_AFTER)
    ))
    streaks: dict[int, int] = {}
    still = silent_in(session, recent[0], reported)
    for depth, rnd in enumerate(recent):
        if depth:
            still &= silent_in(session, rnd, reported)
        for pid in still:
            streaks[pid] = depth + 1
    return streaks


def handle_silence(session: Session, settings: Settings, closing: Round, now: datetime) -> None:
    for pid, streak in silent_streaks(session, closing).items():
        person = session.get_one(Participant, pid)
        if person.status != Status.ACTIVE:
            continue
        if streak >= PAUSE_AFTER:
            person.status = Status.PAUSED
            session.add(AuditEvent(at=now, participant_id=pid, action="paused", old_status=Status.ACTIVE,
                                   new_status=Status.PAUSED, source="schedule", detail="silent for three rounds"))
            enqueue(session, settings, template="participant/paused_silent", to=person, now=now,
                    dedupe_key=f"paused_silent:{closing.id}:{pid}")
        elif streak == ASK_AFTER:
            enqueue(session, settings, template="participant/still_in", to=person, now=now,
                    dedupe_key=f"still_in:{closing.id}:{pid}")
