"""Recognise a calendar reply (iTIP REPLY, COUNTER, ...) in a raw email and read it (pure).

Accept / Decline in Outlook, Gmail or Thunderbird mails the ORGANIZER (us) an iCalendar
object with METHOD:REPLY. Such mail is recognised before any command parsing, since its text
part often quotes our invitation ("reply RESCHEDULE ..."), and before the robot checks, since
it is a person's click and must be recorded, yet never answered. We trust the METHOD inside the
object, not the Content-Type's `method` parameter (noted when they differ), and read only the
first calendar part: Gmail sends the same object inline and as invite.ics. Times in the reply
(Outlook writes them in Windows zones) are not read; UID, SEQUENCE and the attendee decide.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import Message

from icalendar import Calendar

REPLY_METHODS = {"REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER"}
CALENDAR_TYPES = {"text/calendar", "application/ics"}
MAX_ICS_BYTES = 200_000
MAX_ANSWERS = 5  # a reply answers one event; a few more are read, not thousands
MAX_SEQUENCE = 2**31 - 1  # what an INTEGER column holds on every database


@dataclass(frozen=True)
class Answer:
    """One VEVENT of a calendar reply: whose answer (the ATTENDEEs it names) to which booking."""

    uid: str
    sequence: int
    stamp: datetime | None
    attendees: tuple[tuple[str, str], ...]  # (address lower-cased, PARTSTAT)
    comment: str


@dataclass(frozen=True)
class CalendarMessage:
    method: str
    declared: str  # the Content-Type's method parameter, upper-cased ("" when absent)
    answers: tuple[Answer, ...]


def calendar_reply(raw: bytes) -> CalendarMessage | None:
    """The calendar reply in this email, or None (no calendar part, an invitation, or unreadable)."""
    for part in _own_parts(message_from_bytes(raw)):
        if part.get_content_type() not in CALENDAR_TYPES:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or len(payload) > MAX_ICS_BYTES:
            return None
        return _read(payload, str(part.get_param("method", "") or "").upper())
    return None


def _read(data: bytes, declared: str) -> CalendarMessage | None:
    try:
        calendar = Calendar.from_ical(data)
        method = str(calendar.get("METHOD", "")).upper()
        if method not in REPLY_METHODS:
            return None
        events = calendar.walk("VEVENT")[:MAX_ANSWERS]
        return CalendarMessage(method, declared, tuple(_answer(event) for event in events))
    except Exception:  # a broken object from outside: not a calendar reply we can read; handled as mail
        return None


def _answer(event: Calendar) -> Answer:
    stamp = event.get("DTSTAMP")
    attendees = event.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    return Answer(
        uid=str(event.get("UID", ""))[:200], sequence=min(max(int(event.get("SEQUENCE", 0)), 0), MAX_SEQUENCE),
        stamp=stamp.dt if stamp is not None and isinstance(stamp.dt, datetime) else None,
        attendees=tuple((_address(a), str(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper()[:16])
                        for a in attendees[:MAX_ANSWERS]),
        comment=str(event.get("COMMENT", ""))[:200],
    )


def _address(value: object) -> str:
    """"MAILTO:Ann@Example.com" as "ann@example.com" (the scheme in any case: nextcloud/server#12392)."""
    text = str(value).strip()
    return (text[7:] if text.lower().startswith("mailto:") else text).strip().lower()


def _own_parts(part: Message) -> Iterator[Message]:
    """Every part, without descending into attached emails (a bounce quoting our invitation)."""
    yield part
    if part.is_multipart() and part.get_content_maintype() != "message":
        for sub in part.get_payload():
            yield from _own_parts(sub)
