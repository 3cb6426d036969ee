"""A group's booking: book one of its options, move it, call it off, offer fresh options.

Every change queues its emails in the caller's transaction: a calendar invitation to each
member on booking (iCalendar METHOD:REQUEST), the same UID with a higher SEQUENCE when the
time moves, METHOD:CANCEL when it is called off, and the group email with fresh options.
Nobody is booked except by a member's reply (`inbound/booking.py`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from mailer.compose import CalendarPart, new_message_id
from mailer.invite import CANCEL, REQUEST, Meeting, calendar_object, new_uid
from mailer.outbox import enqueue_group, enqueue_invitation
from meetings.offer import numbers, when_lines
from meetings.rebook import fresh_options
from meetings.zones import zone_of
from models import Match, MatchMember, OutboundMessage, Participant, Round, Status

BOOKED, CANCELLED = "booked", "cancelled"
REACHABLE = (Status.ACTIVE, Status.PAUSED)
DEDUPE = {"invitation": "invite", "uninvited": "uninvite"}


def offered(match: Match) -> list[datetime]:
    """The options on offer, option 1 first ([] when none, or when what is stored cannot be read)."""
    try:
        starts = [datetime.fromisoformat(value) for value in json.loads(match.options or "[]")]
    except (ValueError, TypeError):
        return []
    return [start for start in starts if start.tzinfo is not None]


def members_of(session: Session, match: Match) -> list[Participant]:
    """The members we still write to (not those who left or were suspended)."""
    people = [session.get_one(Participant, m.participant_id) for m in match.members]
    return [p for p in people if p.status in REACHABLE]


def book(session: Session, settings: Settings, match: Match, start: datetime, by: Participant, now: datetime) -> None:
    """Book `start` for the group and send each member the invitation, or its update (same UID, SEQUENCE+1)."""
    if match.booking_uid:
        match.booking_sequence += 1
    else:
        match.booking_uid, match.booking_sequence = new_uid(settings.service.domain), 0
    match.booking_state, match.booked_start, match.booked_by_id, match.booked_at = BOOKED, start, by.id, now
    _send(session, settings, match, REQUEST, now)


def call_off(session: Session, settings: Settings, match: Match, now: datetime) -> None:
    """Cancel the booked meeting in every member's calendar (METHOD:CANCEL, SEQUENCE+1, same UID)."""
    match.booking_sequence += 1
    match.booking_state = CANCELLED
    _send(session, settings, match, CANCEL, now)


def drop_member(session: Session, settings: Settings, person: Participant, now: datetime,
                named: bool = True) -> list[OutboundMessage]:
    """`person` stops taking part (LEAVE, FORGET, a suspension) while their group's booked time is still ahead in
    a running round; call it before their status changes. They get a CANCEL naming only themselves and no STATUS
    (the meeting goes on without them, RFC 5546 §3.2.5); the rest get the invitation again, SEQUENCE+1, with the
    new attendee list, or, when one person is left, the whole meeting's CANCEL. `named=False` (FORGET): the
    others are told "a member of your group". Returns the emails to `person`, which FORGET spares until sent."""
    theirs: list[OutboundMessage] = []
    who = (person.name or person.email) if named else "A member of your group"
    for match in _booked_ahead(session, person, now):
        rest = [p for p in members_of(session, match) if p.id != person.id]
        match.booking_sequence += 1
        uninvite = replace(meeting_of(settings, match, [*rest, person]), attendees=((person.email, person.name),))
        calendar = CalendarPart(CANCEL, calendar_object(uninvite, CANCEL, now, whole=False))
        theirs += _queue(session, settings, match, [person], calendar, uninvite, now, template="participant/uninvited")
        if len(rest) < 2:
            match.booking_state = CANCELLED
        _send(session, settings, match, REQUEST if len(rest) > 1 else CANCEL, now, members=rest, left=who)
    return theirs


def _booked_ahead(session: Session, person: Participant, now: datetime) -> list[Match]:
    query = (select(Match).join(MatchMember, MatchMember.match_id == Match.id).join(Round, Round.id == Match.round_id)
             .where(MatchMember.participant_id == person.id, Match.booking_state == BOOKED, Match.booked_start > now,
                    Round.closed_at.is_(None)))
    return list(session.scalars(query))


def offer_fresh(session: Session, settings: Settings, match: Match, now: datetime, why: str, key: str) -> list[datetime]:
    """Store new options and send them to the group; `why` opens the email, `key` makes it once only."""
    starts = fresh_options(session, settings, match, now)
    match.options, match.options_at = json.dumps([s.isoformat() for s in starts]), now
    members = members_of(session, match)
    context = {"greet": _joined([p.greeting_name or p.email for p in members]), "why": why,
               "numbers": numbers(len(starts)), "minutes": settings.meetings.slot_minutes}
    personal = {p.id: {"options": when_lines(starts, p, settings)} for p in members}
    if members:
        enqueue_group(session, settings, template="group/options", members=members, token=match.token, now=now,
                      context=context, thread=match.intro_message_id or None, dedupe_key=f"options:{match.id}:{key}",
                      personal=personal)
    return starts


def _send(session: Session, settings: Settings, match: Match, method: str, now: datetime,
          members: list[Participant] | None = None, left: str = "") -> list[OutboundMessage]:
    members = members_of(session, match) if members is None else members
    meeting = meeting_of(settings, match, members)
    return _queue(session, settings, match, members, CalendarPart(method, calendar_object(meeting, method, now)),
                  meeting, now, left=left)


def _queue(session: Session, settings: Settings, match: Match, members: list[Participant], calendar: CalendarPart,
           meeting: Meeting, now: datetime, template: str = "participant/invitation",
           left: str = "") -> list[OutboundMessage]:
    """Each member's own copy, the time in their own zone. One Message-ID for the copies of one change."""
    kind = template.rpartition("/")[2]
    message_id = new_message_id(kind, match.token, settings.service.domain)
    names = [p.name or p.email for p in members]
    rows = []
    for member in members:
        zone = zone_of(member.time_zone, settings.tz)
        context = {"method": calendar.method, "update": calendar.method == REQUEST and match.booking_sequence > 0,
                   "when": describe(meeting.start, meeting.minutes, [zone]), "where": meeting.location,
                   "short": f"{meeting.start.astimezone(zone):%a %-d %b %H:%M}",
                   "left": left,
                   "others": _joined([n for p, n in zip(members, names) if p.id != member.id] or ["you"])}
        rows.append(enqueue_invitation(session, settings, member=member, members=members, token=match.token, now=now,
                           context=context, calendar=calendar, thread=match.intro_message_id or None,
                           message_id=message_id, template=template,
                           dedupe_key=f"{DEDUPE[kind]}:{match.id}:{match.booking_sequence}:{member.id}"))
    return rows


def meeting_of(settings: Settings, match: Match, members: list[Participant]) -> Meeting:
    assert match.booked_start is not None
    names = _joined([p.name or p.email for p in members])
    where = location(settings, match, members)
    description = (f"{'Join: ' + where if where.startswith('http') else 'Where: ' + where}\n" if where else "") + \
        "To move it, reply to the group's email with the number of another time offered, or RESCHEDULE for new times."
    return Meeting(uid=match.booking_uid, sequence=match.booking_sequence, start=match.booked_start,
                   minutes=settings.meetings.slot_minutes, summary=f"{settings.service.name}: {names}",
                   description=description, location=where, organizer=(settings.service.address, settings.service.name),
                   attendees=tuple((p.email, p.name) for p in members))


def location(settings: Settings, match: Match, members: list[Participant]) -> str:
    """The place when everyone meets in person; else the organiser's video link (its {token} a room name
    made from the group's token, never the token itself, which lets its holder act for the group); else
    the host's or any member's own video link; else the host's place; else "" (they agree it in the thread)."""
    host = next((p for p in members if p.id == match.host_id), None)
    ordered = ([host] if host else []) + [p for p in members if p is not host]
    places = [p.place for p in ordered if p.place]
    if members and all(p.meet_mode == "in_person" for p in members) and places:
        return places[0]
    if settings.meetings.video_link:
        room = hashlib.sha256(f"video-room:{match.token}".encode()).hexdigest()[:16]
        return settings.meetings.video_link.replace("{token}", room)
    return next((p.video for p in ordered if p.video), places[0] if places else "")


def describe(start: datetime, minutes: int, zones: list[ZoneInfo]) -> str:
    """"Tuesday 24 November, 11:00-11:30 (Europe/London)", with the times in each zone given when they differ."""
    local = start.astimezone(zones[0])
    day = local.strftime("%A %-d %B")
    times = [f"{_span(start.astimezone(z), minutes)} ({z.key})" for z in zones]
    return f"{day}, {' / '.join(times)}"


def _span(local: datetime, minutes: int) -> str:
    return f"{local:%H:%M}-{local + timedelta(minutes=minutes):%H:%M}"


def _joined(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else (names[0] if names else "")
