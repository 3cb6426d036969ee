"""Organiser actions on participants and rounds, each audited like any other state change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from inbound.parse import normalise_address
from matching import make_groups
from models import AuditEvent, Match, MatchMember, Participant, Round, SitOut, Status
from rounds.history import active_by_id, eligible, people_for_matching
from rounds.introductions import introduce_all
from rounds.lifecycle import close_round, current_round
from rounds.pair_index import past_pairs, record_groups
from wording import plural

MOVES = {
    "pause": ({Status.ACTIVE}, Status.PAUSED),
    "resume": ({Status.PAUSED, Status.SUSPENDED}, Status.ACTIVE),
    "remove": ({Status.PENDING, Status.ACTIVE, Status.PAUSED, Status.SUSPENDED}, Status.LEFT),
}


class AdminError(Exception):
    """The organiser asked for something that cannot be done; the message says why."""


def find_participant(session: Session, email: str) -> Participant:
    person = session.scalar(select(Participant).where(Participant.email == normalise_address(email)))
    if person is None:
        raise AdminError(f"nobody with the address {email}; `unmentoring participants list` shows everyone")
    return person


def change_status(session: Session, settings: Settings, email: str, action: str, now: datetime) -> Participant:
    """Pause, resume or remove someone. Removing someone whose group has booked a time still ahead takes
    them out of the meeting as LEAVE does: a CANCEL to them, the invitation updated for the rest."""
    from meetings.booking import REACHABLE, drop_member

    person = find_participant(session, email)
    allowed, target = MOVES[action]
    if person.status not in allowed:
        raise AdminError(f"{person.email} is {person.status}; cannot {action}")
    old = person.status
    if target == Status.LEFT and old in REACHABLE:
        drop_member(session, settings, person, now)
    person.status, person.updated_at, person.paused_until = target, now, None
    session.add(AuditEvent(at=now, participant_id=person.id, action=f"organiser-{action}", old_status=old,
                           new_status=target, source="organiser"))
    return person


def top_up(session: Session, settings: Settings, now: datetime, seed: int) -> int:
    """Match, in the running round, the active people who are in no group of it (joined or resumed late)."""
    rnd = current_round(session)
    if rnd is None:
        raise AdminError("no round is running; `unmentoring round open` starts one")
    placed = set(session.scalars(select(MatchMember.participant_id).join(Match).where(Match.round_id == rnd.id)))
    placed |= set(session.scalars(select(SitOut.participant_id).where(SitOut.round_id == rnd.id)))
    waiting = [c for c in eligible(session) if c.id not in placed and not c.skip_next]
    if len(waiting) < 2:
        raise AdminError(f"{plural(len(waiting), 'person')} waiting; at least two are needed for a top-up")
    people = people_for_matching(session, waiting, settings.tz, now.astimezone(settings.tz).date())
    grouping = make_groups(people, past_pairs(session), seed, odd="trio", size=settings.rounds.group_size)
    by_id = active_by_id(session, (c.id for c in waiting))
    introduce_all(session, settings, rnd, [[by_id[i] for i in group] for group in grouping.groups],
                  set(grouping.extras), now)
    record_groups(session, rnd.number, grouping.groups)
    session.add(AuditEvent(at=now, action="round-top-up", source="organiser",
                           detail=f"round {rnd.number}: {len(grouping.groups)} more groups, seed {seed}"))
    return len(grouping.groups)


def close_running(session: Session, settings: Settings, now: datetime) -> Round:
    rnd = current_round(session)
    if rnd is None:
        raise AdminError("no round is running")
    close_round(session, settings, rnd, now)
    return rnd
