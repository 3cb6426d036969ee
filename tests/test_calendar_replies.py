"""Calendar replies (iTIP REPLY, COUNTER) as real clients send them: recognised before commands and robots,
matched on UID and attendee, recorded in calendar_replies, and never answered (both databases).

Each fixture answers our invitation email (its Message-ID carries the group's token), and its text part
would read as a booking or a command if the command parser ever saw it.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone

from sqlalchemy import select

from inbound.itip import calendar_reply
from models import CalendarReply, InboundMessage, Match, OutboundMessage
from tests.app import Service
from tests.test_booking import KIM, SAM, introduced, say

OUTLOOK_ICS = """BEGIN:VCALENDAR
METHOD:REPLY
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VTIMEZONE
TZID:GMT Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T010000
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
ATTENDEE;PARTSTAT={partstat};CN="Lee, Kim":MAILTO:{attendee}
COMMENT;LANGUAGE=en-GB:
SUMMARY;LANGUAGE=en-GB:Accepted: Coffee Roulette: Sam Jones and Kim Lee
DTSTART;TZID=GMT Standard Time:20261126T100000
DTEND;TZID=GMT Standard Time:20261126T103000
UID:{uid}
SEQUENCE:{sequence}
DTSTAMP:{stamp}
ORGANIZER;CN=Coffee Roulette:MAILTO:coffee@example.org
END:VEVENT
END:VCALENDAR
"""

OUTLOOK = """From: "Lee, Kim" <{sender}>
To: Coffee Roulette <coffee@example.org>
Subject: Accepted: Invitation: Coffee Roulette with Sam Jones
Date: Sat, 21 Nov 2026 08:15:02 +0000
Message-ID: <{name}@DB9PR02MB6521.eurprd02.prod.outlook.com>
In-Reply-To: {invite_id}
References: {invite_id}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="_000_DB9PR02MB6521_"

--_000_DB9PR02MB6521_
Content-Type: text/plain; charset="us-ascii"

2

--_000_DB9PR02MB6521_
Content-Type: text/calendar; charset="utf-8"; method={declared}
Content-Transfer-Encoding: base64

{ics}
--_000_DB9PR02MB6521_--
"""

GMAIL_ICS = """BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:{method}
BEGIN:VEVENT
DTSTART:20261126T100000Z
DTEND:20261126T103000Z
DTSTAMP:20261121T090000Z
ORGANIZER;CN=Coffee Roulette:mailto:coffee@example.org
UID:{uid}
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};CN=Sam
 Jones;X-NUM-GUESTS=0:mailto:{attendee}
SEQUENCE:{sequence}
STATUS:CONFIRMED
SUMMARY:Coffee Roulette: Sam Jones and Kim Lee
END:VEVENT
END:VCALENDAR
"""

GMAIL = """From: Sam Jones <{sender}>
To: coffee@example.org
Subject: Updated invitation with note: Coffee Roulette
Date: Sat, 21 Nov 2026 09:00:00 +0000
Message-ID: <{name}@google.com>
In-Reply-To: {invite_id}
References: {invite_id}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: multipart/alternative; boundary="000000000000a1b2c4"

--000000000000a1b2c4
Content-Type: text/plain; charset="UTF-8"

RESCHEDULE please, Thursday is good

Sam Jones has {what} this invitation.

--000000000000a1b2c4
Content-Type: text/calendar; charset="UTF-8"; method={method}
Content-Transfer-Encoding: 7bit

{ics}
--000000000000a1b2c4--

--000000000000a1b2c3
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

{ics64}
--000000000000a1b2c3--
"""


def outlook(name: str, uid: str, invite_id: str, sequence: int, sender: str = KIM, attendee: str = KIM,
            partstat: str = "ACCEPTED", declared: str = "REPLY", stamp: str = "20261121T081502Z") -> bytes:
    ics = OUTLOOK_ICS.format(partstat=partstat, attendee=attendee, uid=uid, sequence=sequence, stamp=stamp)
    ics = ics.replace("\n", "\r\n")
    ics64 = base64.encodebytes(ics.encode()).decode()
    return _crlf(OUTLOOK.format(sender=sender, name=name, invite_id=invite_id, declared=declared, ics=ics64))


def gmail(name: str, uid: str, invite_id: str, sequence: int, method: str = "REPLY", partstat: str = "TENTATIVE",
          attendee: str = SAM) -> bytes:
    ics = GMAIL_ICS.format(method=method, uid=uid, partstat=partstat, attendee=attendee, sequence=sequence)
    ics64 = base64.encodebytes(ics.replace("\n", "\r\n").encode()).decode()
    return _crlf(GMAIL.format(sender=SAM, name=name, invite_id=invite_id, what="tentatively accepted", method=method,
                              ics=ics, ics64=ics64))


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def fixtures(uid: str, invite_id: str) -> dict[str, tuple[bytes, bool, str]]:
    """name: (raw email, applied, words the recorded note must have). The meeting is at SEQUENCE 1."""
    return {
        "outlook-accept": (outlook("a1", uid, invite_id, 1), True, "ACCEPTED recorded"),
        "gmail-tentative": (gmail("g1", uid, invite_id, 1), True, "TENTATIVE recorded"),
        "method-mismatch": (outlook("m1", uid, invite_id, 1, declared="REQUEST"), True, "Content-Type says method REQUEST"),
        "unknown-attendee": (outlook("u1", uid, invite_id, 1, sender="eve@example.net", attendee="eve@example.net"),
                             False, "not in this group"),
        "from-not-attendee": (outlook("f1", uid, invite_id, 1, sender="kim.lee@gmail.com", partstat="DECLINED"),
                              False, "another address than the attendee"),
        "stale-sequence": (outlook("s1", uid, invite_id, 0, partstat="DECLINED"), False, "earlier version (SEQUENCE 0"),
        "counter": (gmail("c1", uid, invite_id, 1, method="COUNTER", partstat="ACCEPTED"), False, "COUNTER is not acted on"),
        "unknown-uid": (outlook("x1", "040000008200E00074C5B7101A82E008", invite_id, 1), False, "no booking has this UID"),
    }


def test_outlook_and_gmail_replies_are_read_without_a_server() -> None:
    found = calendar_reply(outlook("a1", "u@example.org", "<i@example.org>", 3, attendee="Kim@NHS.net"))
    assert found is not None and (found.method, found.declared) == ("REPLY", "REPLY")
    [answer] = found.answers
    assert (answer.uid, answer.sequence, answer.attendees) == ("u@example.org", 3, (("kim@nhs.net", "ACCEPTED"),))
    assert answer.stamp == datetime(2026, 11, 21, 8, 15, 2, tzinfo=timezone.utc)
    twice = calendar_reply(gmail("g1", "u@example.org", "<i@example.org>", 0))
    assert twice is not None and len(twice.answers) == 1, "inline and invite.ics: read once"
    assert calendar_reply(b"From: a@b.example\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY") is None


def test_each_calendar_reply_is_recorded_and_none_is_answered(service: Service) -> None:
    token = introduced(service)
    say(service, token, "2")
    say(service, token, "3", sender=f"Kim <{KIM}>")
    with service.session() as s:
        match = s.scalars(select(Match)).one()
        uid, invite_id = match.booking_uid, s.scalars(select(OutboundMessage.message_id).where(
            OutboundMessage.kind == "invitation").order_by(OutboundMessage.id.desc())).first()
        queued = s.query(OutboundMessage).count()
    assert match.booking_sequence == 1 and invite_id
    cases = fixtures(uid, invite_id)
    for raw, _, _ in cases.values():
        service.imap.deliver(raw)
    service.tick()
    with service.session() as s:
        assert s.query(OutboundMessage).count() == queued, "nothing answered, nothing booked or moved"
        rows = {r.inbound_id: r for r in s.scalars(select(CalendarReply))}
        for name, (raw, applied, note) in cases.items():
            key = next(line for line in raw.decode().split("\r\n") if line.startswith("Message-ID:")).split(" ", 1)[1]
            record = s.scalars(select(InboundMessage).where(InboundMessage.message_id == key)).one()
            assert (record.action, record.disposition) == ("calendar-reply", "processed"), name
            assert note in record.reason, (name, record.reason)
            row = rows[record.id]
            assert row.applied == applied and row.uid == uid if name != "unknown-uid" else not row.applied, name
        match = s.scalars(select(Match)).one()
        assert (match.booking_state, match.booking_sequence) == ("booked", 1), "no stale or forged decline applied"


def test_an_answer_made_before_the_one_recorded_changes_nothing(service: Service) -> None:
    """Kim accepted at 10:00 after declining at 09:00; the decline arrives last (mail is delayed) and must not
    call the meeting off. Without DTSTAMP order it would."""
    token = introduced(service)
    say(service, token, "2")
    with service.session() as s:
        uid = s.scalars(select(Match)).one().booking_uid
    service.imap.deliver(outlook("late-accept", uid, "<i@example.org>", 0, stamp="20261121T100000Z"))
    service.tick()
    service.imap.deliver(outlook("early-decline", uid, "<i@example.org>", 0, partstat="DECLINED", stamp="20261121T090000Z"))
    service.tick()
    with service.session() as s:
        assert s.scalars(select(Match)).one().booking_state == "booked"
        rows = s.scalars(select(CalendarReply).order_by(CalendarReply.id)).all()
        assert [(r.partstat, r.applied) for r in rows] == [("ACCEPTED", True), ("DECLINED", False)]
        assert "DTSTAMP" in rows[1].note
