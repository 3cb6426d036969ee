"""Booking a time by email through real IMAP/SMTP, on both databases: a member's "2" in the group's thread
sends everyone a calendar invitation; another number moves it (same UID, SEQUENCE+1); a decline in a
calendar, or RESCHEDULE, calls it off and offers fresh times; mistakes get a clear answer."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from email.message import EmailMessage

import icalendar
import pytest
from sqlalchemy import select

from models import CalendarReply, InboundMessage, Match, OutboundMessage, Participant, Round, Status
from tests.app import Service
from tests.mail import incoming

SAM, KIM = "sam@leeds.gov.uk", "kim@nhs.net"
OPTIONS = [datetime(2026, 11, 24, 11, tzinfo=timezone.utc), datetime(2026, 11, 25, 14, tzinfo=timezone.utc),
           datetime(2026, 11, 26, 10, tzinfo=timezone.utc)]


def introduced(service: Service, options: list[datetime] = OPTIONS) -> str:
    """Sam and Kim in a round that has just opened, offered `options`; their group's token."""
    with service.session() as s, s.begin():
        s.add(Participant(email=SAM, name="Sam Jones", status=Status.ACTIVE, reply_token="samtoken1",
                          video="https://meet.example/sam"))
        s.add(Participant(email=KIM, name="Kim Äbel", status=Status.ACTIVE, reply_token="kimtoken1",
                          time_zone="Europe/Paris"))
    service.cli("round", "open")
    with service.session() as s, s.begin():
        match = s.scalars(select(Match)).one()
        match.options = json.dumps([o.isoformat() for o in options])
        return match.token


def say(service: Service, token: str, text: str, sender: str = f"Sam Jones <{SAM}>", subject: str = "Re: meet Kim") -> str:
    """A reply to all in the group's thread."""
    service.imap.deliver(incoming(sender, subject, text, to=f"coffee+{token}@example.org, {KIM}"))
    return service.tick().output


def invitations(service: Service) -> list[EmailMessage]:
    return [m.message for m in service.smtp.messages if _calendar_part(m.message) is not None]


def _calendar_part(msg: EmailMessage) -> EmailMessage | None:
    return next((p for p in msg.walk() if p.get_content_type() == "text/calendar"), None)  # type: ignore[misc]


def event_of(msg: EmailMessage) -> tuple[str, icalendar.Event]:
    part = _calendar_part(msg)
    assert part is not None
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert str(part.get_param("method")) == str(calendar["METHOD"])
    return str(calendar["METHOD"]), calendar.walk("VEVENT")[0]


def match_row(service: Service) -> Match:
    with service.session() as s:
        return s.scalars(select(Match)).one()


def answers(service: Service) -> list[str]:
    """The plain text of every answer we sent (not group or calendar mail)."""
    return [m.message.get_body(("plain",)).get_content() for m in service.smtp.messages
            if m.message["Auto-Submitted"] == "auto-replied"]


def test_two_in_the_thread_books_everyone_and_three_moves_it(service: Service) -> None:
    token = introduced(service)
    say(service, token, "2 works for me, see you then!")
    sent = invitations(service)
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == [KIM, SAM], "one email per member"
    uids = set()
    for msg in sent:
        method, event = event_of(msg)
        assert method == "REQUEST" and event["SEQUENCE"] == 0 and event["DTSTART"].dt == OPTIONS[1]
        assert msg["From"].addresses[0].addr_spec == "coffee@example.org" == str(event["ORGANIZER"]).removeprefix("mailto:")
        assert sorted(str(a).removeprefix("mailto:") for a in event["ATTENDEE"]) == [KIM, SAM]
        assert str(event["LOCATION"]) == "https://meet.example/sam"
        uids.add(str(event["UID"]))
    kim_text = next(m for m in sent if m["To"].addresses[0].addr_spec == KIM).get_body(("plain",)).get_content()
    assert "Wednesday 25 November, 15:00-15:30 (Europe/Paris)" in kim_text, "in the reader's own time zone"
    booked = match_row(service)
    assert booked.booking_state == "booked" and booked.booked_start == OPTIONS[1] and uids == {booked.booking_uid}

    say(service, token, "Sorry, Wednesday's gone. 3 is good for me", sender=f"Kim <{KIM}>")
    assert len(invitations(service)) == 2, "a sentence mentioning a number later on books nothing"
    say(service, token, "3", sender=f"Kim <{KIM}>")
    update = invitations(service)[2:]
    assert len(update) == 2
    for msg in update:
        method, event = event_of(msg)
        assert (method, str(event["UID"]), event["SEQUENCE"]) == ("REQUEST", booked.booking_uid, 1)
        assert event["DTSTART"].dt == OPTIONS[2] and msg["Subject"].strip().startswith("Moved:")
    assert match_row(service).booking_sequence == 1


@pytest.mark.parametrize("text", ["Option 2 works", "BOOK 2", "Hi both,\n\nTuesday is good", "Let's go with option 1."])
def test_the_ways_of_saying_it(service: Service, text: str) -> None:
    token = introduced(service)
    say(service, token, text)
    assert len(invitations(service)) == 2, text
    assert match_row(service).booked_start in OPTIONS


def test_chat_that_mentions_a_number_books_nothing(service: Service) -> None:
    token = introduced(service)
    for text in ("I have 2 kids so mornings are hard", "See you at 2pm!", "2pm works for me", "1 or 2?",
                 "Does Tuesday work?", "2 of us can do Thursday",
                 "Thanks!\n\nOn Fri, Coffee Roulette wrote:\n> reply 1, 2 or 3\n> 2\n"):
        say(service, token, text)
    assert invitations(service) == [] and answers(service) == []
    assert match_row(service).booking_state == ""


def test_an_option_that_does_not_exist_is_explained(service: Service) -> None:
    token = introduced(service)
    say(service, token, "BOOK 4")
    assert "your group was offered 3 times" in answers(service)[-1]
    say(service, token, "Option 5 works")
    assert "Reply with a number from 1 to 3" in answers(service)[-1]
    assert invitations(service) == [] and match_row(service).booking_state == ""


def test_a_booking_with_no_options_or_after_the_round_closed_is_explained(service: Service) -> None:
    token = introduced(service, options=[])
    say(service, token, "2")
    assert answers(service) == [], "without options on offer, '2' in the thread is only chat"
    say(service, token, "BOOK 2")
    assert "no times on offer" in answers(service)[-1]
    with service.session() as s, s.begin():
        s.scalars(select(Match)).one().options = json.dumps([o.isoformat() for o in OPTIONS])
        s.scalars(select(Round)).one().closed_at = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    say(service, token, "BOOK 2")
    assert "the round your group was in has closed" in answers(service)[-1]
    assert invitations(service) == [] and match_row(service).booking_state == ""


def test_nobody_is_booked_from_an_address_we_cannot_trust(service: Service) -> None:
    introduced(service)
    service.imap.deliver(incoming(f"Sam Jones <{SAM}>", "BOOK 2", "", to="coffee@example.org"))
    service.tick()
    assert invitations(service) == [] and match_row(service).booking_state == ""
    assert service.smtp.messages[-1].message["Subject"] == "Please confirm: BOOK"


def test_a_repeated_choice_books_once(service: Service) -> None:
    token = introduced(service)
    say(service, token, "2")
    say(service, token, "2!", sender=f"Kim <{KIM}>")
    assert len(invitations(service)) == 2 and "already booked" in answers(service)[-1]


def calendar_answer(invite: EmailMessage, sender: str, partstat: str, sequence: int | None = None) -> bytes:
    """What Outlook sends when a member clicks Accept or Decline on `invite`."""
    _, event = event_of(invite)
    reply = icalendar.Calendar.new(method="REPLY", prodid="-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN")
    reply.pop("UID", None)
    answer = icalendar.Event.new(
        uid=str(event["UID"]), sequence=event["SEQUENCE"] if sequence is None else sequence,
        stamp=datetime(2026, 11, 21, 8, tzinfo=timezone.utc), start=event["DTSTART"].dt,
        organizer=str(event["ORGANIZER"]),
        attendees=[icalendar.vCalAddress.new(f"MAILTO:{sender}", partstat=partstat)])
    reply.add_component(answer)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "coffee@example.org", f"{partstat.title()}: {invite['Subject']}"
    msg["Message-ID"] = f"<{partstat}.{sequence}.{sender}>"
    msg.set_content(f"{partstat.title()}\n\n> {invite.get_body(('plain',)).get_content()[:200]}")
    msg.add_alternative(reply.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"})
    return msg.as_bytes()


def test_accept_is_recorded_and_decline_offers_fresh_times(service: Service) -> None:
    token = introduced(service)
    say(service, token, "2")
    invite = invitations(service)[0]
    before = len(service.smtp.messages)
    service.imap.deliver(calendar_answer(invite, SAM, "ACCEPTED"))
    service.tick()
    assert len(service.smtp.messages) == before, "a calendar reply is never answered"
    service.imap.deliver(calendar_answer(invite, KIM, "DECLINED"))
    service.tick()
    new = [m.message for m in service.smtp.messages[before:]]
    cancels = [m for m in new if _calendar_part(m) is not None]
    assert sorted(m["To"].addresses[0].addr_spec for m in cancels) == [KIM, SAM]
    for msg in cancels:
        method, event = event_of(msg)
        assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    offers = [m for m in new if m["Subject"].strip() == "Re: Coffee Roulette: meet Sam Jones and Kim Äbel"]
    assert len(offers) == 2, "the fresh options go to the group, as group mail does"
    text = offers[0].get_body(("plain",)).get_content()
    assert "Kim Äbel can't make Wednesday 25 November" in text and "\n1. Mon 23 Nov, " in text
    assert "Reply 1, 2 or 3 to book it" in text, "worded as the introduction words its times"
    booked = match_row(service)
    assert booked.booking_state == "cancelled" and len(json.loads(booked.options)) == 3
    with service.session() as s:
        rows = s.scalars(select(CalendarReply).order_by(CalendarReply.id)).all()
        assert [(r.partstat, r.applied) for r in rows] == [("ACCEPTED", True), ("DECLINED", True)]
        assert {m.action for m in s.scalars(select(InboundMessage))} >= {"calendar-reply"}
    say(service, token, "1")
    _, event = event_of(invitations(service)[-1])
    assert event["SEQUENCE"] == 2 and str(event["UID"]) == booked.booking_uid, "booked again: same UID, not a second meeting"


def test_reschedule_calls_it_off_and_offers_new_times(service: Service) -> None:
    token = introduced(service)
    say(service, token, "1")
    say(service, token, "RESCHEDULE", sender=f"Kim <{KIM}>")
    _, event = event_of(invitations(service)[-1])
    assert str(event["STATUS"]) == "CANCELLED"
    text = service.smtp.messages[-1].message.get_body(("plain",)).get_content()
    assert [line[:3] for line in text.splitlines() if line[:1].isdigit()] == ["1. ", "2. ", "3. "], text
    with service.session() as s:
        assert s.scalar(select(OutboundMessage.kind).order_by(OutboundMessage.id.desc()).limit(1)) == "options"


def test_a_weekday_with_two_options_is_asked_about(service: Service) -> None:
    two_tuesdays = [datetime(2026, 11, 24, 10, tzinfo=timezone.utc), datetime(2026, 11, 24, 15, tzinfo=timezone.utc),
                    datetime(2026, 11, 26, 10, tzinfo=timezone.utc)]
    token = introduced(service, options=two_tuesdays)
    say(service, token, "Tuesday works for me")
    assert "More than one time offered falls on Tuesday" in answers(service)[-1] and "(1 or 2)" in answers(service)[-1]
    say(service, token, "Thursday is good", sender=f"Kim <{KIM}>")
    assert match_row(service).booked_start == two_tuesdays[2]


def test_forgetting_a_member_erases_them_from_every_invitation(service: Service) -> None:
    """Kim's copy names Sam (an ATTENDEE, Reply-To): FORGET must empty it too."""
    from models.erasure import forget

    token = introduced(service)
    say(service, token, "2")
    with service.session() as s, s.begin():
        forget(s, s.scalars(select(Participant).where(Participant.email == SAM)).one())
    with service.session() as s:
        rows = s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "invitation")).all()
        assert len(rows) == 2 and all(SAM.encode() not in r.raw and SAM not in r.recipients for r in rows)


def test_reschedule_twice_sends_the_group_one_email(service: Service) -> None:
    token = introduced(service)
    say(service, token, "RESCHEDULE")
    say(service, token, "RESCHEDULE", sender=f"Kim <{KIM}>")
    with service.session() as s:
        assert len(s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "options")).all()) == 2, "one per member"
    assert "The times on offer are the newest we have" in answers(service)[-1]
