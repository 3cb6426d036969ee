"""A member leaving a group with a booked time (CALENDAR.md §2), on both databases through the real service:
they get a CANCEL naming only themselves and no STATUS; the rest get the invitation again, SEQUENCE+1, with
the new attendee list (or, in a pair, the whole meeting's CANCEL)."""
from __future__ import annotations

import json
from email.message import EmailMessage

from sqlalchemy import select

from models import Match, OutboundMessage, Participant, Status
from tests.app import Service
from tests.mail import incoming
from tests.test_booking import KIM, OPTIONS, SAM, event_of, invitations, say

ASH = "ash@cardiff.gov.uk"


def trio_booked(service: Service) -> str:
    """Sam, Kim and Ash in one group that has booked option 2; the group's token."""
    service.set("rounds", "group_size", 3)
    with service.session() as s, s.begin():
        s.add(Participant(email=SAM, name="Sam Jones", status=Status.ACTIVE, reply_token="samtoken1"))
        s.add(Participant(email=KIM, name="Kim Äbel", status=Status.ACTIVE, reply_token="kimtoken1"))
        s.add(Participant(email=ASH, name="Ash Reid", status=Status.ACTIVE, reply_token="ashtoken1"))
    service.cli("round", "open")
    with service.session() as s, s.begin():
        match = s.scalars(select(Match)).one()
        match.options = json.dumps([o.isoformat() for o in OPTIONS])
        token = match.token
    say(service, token, "2")
    service.smtp.clear()
    return token


def attendees(event: object) -> list[str]:
    found = event["ATTENDEE"]  # type: ignore[index]
    return sorted(str(a).lower().removeprefix("mailto:") for a in (found if isinstance(found, list) else [found]))


def calendar_mail(service: Service) -> dict[str, EmailMessage]:
    return {m["To"].addresses[0].addr_spec: m for m in invitations(service)}


def test_leave_cancels_for_the_leaver_only_and_updates_the_rest(service: Service) -> None:
    trio_booked(service)
    service.imap.deliver(incoming(f"Ash Reid <{ASH}>", "LEAVE", to="coffee+ashtoken1@example.org"))
    service.tick()
    sent = calendar_mail(service)
    assert sorted(sent) == sorted([ASH, KIM, SAM])
    method, event = event_of(sent[ASH])
    assert (method, attendees(event), event["SEQUENCE"]) == ("CANCEL", [ASH], 1)
    assert "STATUS" not in event, "STATUS:CANCELLED would call the meeting off for everyone"
    assert "no longer taking part" in sent[ASH].get_body(("plain",)).get_content()
    for member in (KIM, SAM):
        method, event = event_of(sent[member])
        assert (method, attendees(event), event["SEQUENCE"]) == ("REQUEST", sorted([KIM, SAM]), 1)
        assert event["DTSTART"].dt == OPTIONS[1] and str(event["STATUS"]) == "CONFIRMED"
        assert str(sent[member]["Subject"]).strip().startswith("Updated:")
        assert "Ash Reid is no longer taking part" in sent[member].get_body(("plain",)).get_content()
    with service.session() as s:
        match = s.scalars(select(Match)).one()
        assert (match.booking_state, match.booking_sequence) == ("booked", 1)


def test_the_organiser_removing_a_member_updates_the_meeting_as_leave_does(service: Service) -> None:
    trio_booked(service)
    result = service.cli("participants", "remove", ASH)
    assert result.exit_code == 0, result.output
    service.tick()
    sent = calendar_mail(service)
    assert sorted(sent) == sorted([ASH, KIM, SAM])
    method, event = event_of(sent[ASH])
    assert (method, attendees(event), "STATUS" in event) == ("CANCEL", [ASH], False)
    for member in (KIM, SAM):
        method, event = event_of(sent[member])
        assert (method, attendees(event), event["SEQUENCE"]) == ("REQUEST", sorted([KIM, SAM]), 1)
        assert "Ash Reid is no longer taking part" in sent[member].get_body(("plain",)).get_content()
    service.smtp.clear()
    assert service.cli("participants", "remove", ASH).exit_code == 1, "removing twice is refused"
    service.tick()
    assert invitations(service) == [], "and changes no calendar again"


def test_a_pair_whose_member_is_forgotten_is_called_off_without_naming_them(service: Service) -> None:
    from tests.test_booking import introduced
    token = introduced(service)
    say(service, token, "2")
    service.smtp.clear()
    service.imap.deliver(incoming(f"Sam Jones <{SAM}>", "FORGET", to="coffee+samtoken1@example.org"))
    service.tick()
    request = next(m.message for m in service.smtp.messages if m.message["Subject"].startswith("Confirm"))
    service.smtp.clear()
    service.imap.deliver(incoming(SAM, "Re: confirm", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec))
    service.tick()
    sent = calendar_mail(service)
    assert sorted(sent) == [KIM, SAM]
    method, event = event_of(sent[SAM])
    assert (method, attendees(event), "STATUS" in event) == ("CANCEL", [SAM], False)
    method, event = event_of(sent[KIM])
    assert (method, attendees(event), str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", [KIM], "CANCELLED", 1)
    text = sent[KIM].get_body(("plain",)).get_content()
    assert "A member of your group is no longer taking part" in text and "Sam" not in text
    with service.session() as s:
        assert s.scalars(select(Match)).one().booking_state == "cancelled"
        rows = s.scalars(select(OutboundMessage).where(OutboundMessage.kind.in_(["uninvited", "invitation"]))).all()
        assert all(SAM.encode() not in r.raw and SAM not in r.recipients for r in rows), "nothing names Sam once sent"


def test_a_suspension_for_bounces_takes_them_out_of_the_meeting(service: Service) -> None:
    trio_booked(service)
    service.set("service", "bounce_limit", 1)
    with service.session() as s, s.begin():
        s.scalars(select(Participant).where(Participant.email == ASH)).one().bounce_score = 0
    service.imap.deliver(bounce_for(ASH))
    service.tick()
    with service.session() as s:
        assert s.scalars(select(Participant).where(Participant.email == ASH)).one().status == Status.SUSPENDED
    sent = calendar_mail(service)
    assert event_of(sent[ASH])[0] == "CANCEL" and attendees(event_of(sent[KIM])[1]) == sorted([KIM, SAM])


def test_leaving_after_the_meeting_changes_no_calendar(service: Service) -> None:
    from datetime import timedelta
    trio_booked(service)
    service.travel(OPTIONS[1] + timedelta(hours=2))
    service.imap.deliver(incoming(f"Ash Reid <{ASH}>", "LEAVE", to="coffee+ashtoken1@example.org"))
    service.tick()
    assert invitations(service) == []


def bounce_for(address: str) -> bytes:
    """A delivery report to our VERP address for `address`."""
    with_token = "coffee+b-ashtoken1@example.org"
    return (f"From: MAILER-DAEMON@mx.example.net\r\nTo: {with_token}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: <bounce1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
            f"--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; {address}\r\nAction: failed\r\n"
            f"Status: 5.1.1\r\n\r\n--b--\r\n").encode()
