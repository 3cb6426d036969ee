"""A group's booked meeting as an iCalendar invitation or cancellation (iMIP, RFC 6047; pure).

Built with the `icalendar` library, never by hand: it escapes, folds at 75 octets and ends
lines with CRLF. Times are UTC (`...Z`), so no VTIMEZONE is needed and no reader can apply
the wrong offset (see ../shared/CALENDAR.md §4). The ORGANIZER is the service itself (the
address the email comes From), never a member: calendar replies then come back to our inbox,
and Outlook does not tell a member "as the organizer, you need not respond". One UID per
group's booking, minted once; every later message raises SEQUENCE (RFC 5546 §2.1.4).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from icalendar import Calendar, Event, vCalAddress

from mailer.headers import clean_header_text

PRODID = "-//unmentoring//Coffee Roulette//EN"
REQUEST, CANCEL = "REQUEST", "CANCEL"


@dataclass(frozen=True)
class Meeting:
    """Everything an invitation says: who, when (an aware datetime, any zone; written as UTC), where."""

    uid: str
    sequence: int
    start: datetime
    minutes: int
    summary: str
    description: str
    location: str
    organizer: tuple[str, str]  # (address, name)
    attendees: tuple[tuple[str, str], ...]  # (address, name) of every member


def new_uid(domain: str) -> str:
    """Random and on our domain (RFC 5545 §3.8.4.7 recommends both), so no two bookings share one."""
    return f"meet-{secrets.token_hex(10)}@{domain}"


def calendar_object(meeting: Meeting, method: str, now: datetime, whole: bool = True) -> bytes:
    """The VCALENDAR for `method` (REQUEST: an invitation or its update; CANCEL: the meeting is off).
    `whole=False` with CANCEL un-invites only the attendees listed: no STATUS, so the meeting stays for
    the rest (RFC 5546 §3.2.5)."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"unsupported iTIP method {method!r}")
    start = meeting.start.astimezone(timezone.utc)
    event = Event.new(
        uid=meeting.uid, sequence=meeting.sequence, stamp=now.astimezone(timezone.utc), start=start,
        end=start + timedelta(minutes=meeting.minutes), summary=_text(meeting.summary),
        description=meeting.description.replace("\r", "") or None, location=_text(meeting.location) or None,
        status="CONFIRMED" if method == REQUEST else ("CANCELLED" if whole else None),
        organizer=vCalAddress.new(f"mailto:{meeting.organizer[0]}", cn=_name(meeting.organizer[1])),
        attendees=[_attendee(address, name, method) for address, name in meeting.attendees],
    )
    calendar = Calendar.new(method=method, prodid=PRODID, subcomponents=[event])
    calendar.pop("UID", None)  # Calendar.new adds an RFC 7986 calendar UID; iTIP readers expect only the event's
    return calendar.to_ical()


def _attendee(address: str, name: str, method: str) -> vCalAddress:
    """A new time voids an earlier answer, so every REQUEST asks each member again (RFC 5546 §2.1.4)."""
    if method == CANCEL:
        return vCalAddress.new(f"mailto:{address}", cn=_name(name), role="REQ-PARTICIPANT")
    return vCalAddress.new(f"mailto:{address}", cn=_name(name), role="REQ-PARTICIPANT",
                           partstat="NEEDS-ACTION", rsvp=True)


def _text(value: str) -> str:
    return clean_header_text(value)[:200]


def _name(value: str) -> str | None:
    """A CN parameter: no double quotes, which only RFC 6868's ^' escape could carry and not every reader knows."""
    return _text(value).replace('"', "'") or None
