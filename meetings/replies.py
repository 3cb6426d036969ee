"""Record calendar replies (Accept / Decline) to our invitations; never answer them.

Each answer is matched on its UID (the booking) and its one ATTENDEE (a member of that
group), and counts only when the From address is that attendee (RFC 6047 §2.2.1: only an
attendee may set their own status) and it answers the meeting as it is now (its SEQUENCE is
ours; an older one answers a time that has since moved; of two answers to the same SEQUENCE the
one made later, by its DTSTAMP, counts: RFC 5546 §2.1.5). Anything else is
recorded with why it changed nothing. A decline of the booked time calls the meeting off in
every calendar and offers the group fresh times; nothing goes back to the one who declined.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from inbound.itip import Answer, CalendarMessage
from meetings.booking import BOOKED, call_off, describe, offer_fresh
from meetings.zones import zone_of
from models import CalendarReply, Match, MatchMember, Participant


def record(session: Session, settings: Settings, sender: str, found: CalendarMessage, inbound_id: int | None,
           now: datetime, forged: bool = False) -> str:
    """Record every answer in `found`; returns what happened, for the inbound message's record.
    `forged`: our receiving server says the From address failed DMARC."""
    notes = []
    for answer in found.answers or (Answer("", 0, None, (), ""),):
        match = session.scalar(select(Match).where(Match.booking_uid == answer.uid)) if answer.uid else None
        person, why = _judge(session, sender, found, answer, match, forged)
        partstat = answer.attendees[0][1] if len(answer.attendees) == 1 else ""
        session.add(CalendarReply(match_id=match.id if match else None, participant_id=person.id if person else None,
                                  inbound_id=inbound_id, uid=answer.uid, sequence=answer.sequence, partstat=partstat,
                                  stamp=answer.stamp,
                                  applied=not why, note=why or f"{partstat} recorded", received_at=now))
        if not why and partstat == "DECLINED" and match is not None and match.booking_state == BOOKED:
            _declined(session, settings, match, person, now, inbound_id)
            why = "DECLINED: the meeting is called off and fresh times offered to the group"
        notes.append(why or f"{partstat} recorded")
    mismatch = f"; Content-Type says method {found.declared}" if found.declared and found.declared != found.method else ""
    return f"calendar {found.method}: " + "; ".join(notes) + mismatch


def _judge(session: Session, sender: str, found: CalendarMessage, answer: Answer, match: Match | None,
           forged: bool) -> tuple[Participant | None, str]:
    """(the member who answered, "" when the answer counts, else why it changes nothing)."""
    attendee = answer.attendees[0][0] if len(answer.attendees) == 1 else ""
    person = session.scalar(select(Participant).where(Participant.email == attendee)) if attendee else None
    if found.method != "REPLY":
        return person, f"{found.method} is not acted on (only Accept / Decline are)"
    if match is None:
        return person, "no booking has this UID"
    if len(answer.attendees) != 1:
        return person, "a reply must name exactly one attendee"
    members = set(session.scalars(select(MatchMember.participant_id).where(MatchMember.match_id == match.id)))
    if person is None or person.id not in members:
        return None, "the attendee is not in this group"
    if sender != attendee or forged:
        return person, "sent from another address than the attendee's" if sender != attendee else \
            "our server says the From address failed DMARC"
    if answer.sequence < match.booking_sequence:
        return person, f"answers an earlier version (SEQUENCE {answer.sequence}, now {match.booking_sequence})"
    if answer.sequence > match.booking_sequence:
        return person, f"SEQUENCE {answer.sequence} was never sent (ours is {match.booking_sequence})"
    if _answered_later(session, match, person, answer):
        return person, "made before an answer already recorded for this version (DTSTAMP)"
    return person, ""


def _answered_later(session: Session, match: Match, person: Participant, answer: Answer) -> bool:
    """Whether this member's answer to the same SEQUENCE, already applied, was made after this one."""
    if answer.stamp is None:
        return False
    later = select(CalendarReply.id).where(
        CalendarReply.match_id == match.id, CalendarReply.participant_id == person.id, CalendarReply.applied.is_(True),
        CalendarReply.sequence == answer.sequence, CalendarReply.stamp > answer.stamp)
    return session.scalar(later.limit(1)) is not None


def _declined(session: Session, settings: Settings, match: Match, person: Participant | None, now: datetime,
              inbound_id: int | None) -> None:
    assert match.booked_start is not None
    zone = zone_of(person.time_zone, settings.tz) if person else settings.tz
    when = describe(match.booked_start, settings.meetings.slot_minutes, [zone])
    who = (person.name or person.email) if person else "Someone"
    call_off(session, settings, match, now)
    offer_fresh(session, settings, match, now, why=f"{who} can't make {when}, so that meeting is off.",
                key=f"declined-{inbound_id}")
