"""The foundation's loop, end to end over real IMAP/SMTP and both databases:
JOIN -> confirmation with a token -> CONFIRM reply -> welcome."""
from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, InboundMessage, Participant, Status, Token
from tests.app import Service
from tests.mail import SERVICE, incoming, reply_to

SAM = "Sam Jones <Sam.Jones@Leeds.gov.uk>"


def test_join_confirm_welcome(service: Service) -> None:
    service.imap.deliver(incoming(SAM, "JOIN", "Hi, I'd like to take part."))
    service.tick()

    confirmation = service.smtp.wait_for(1)[0].message
    assert confirmation["To"].addresses[0].addr_spec == "sam.jones@leeds.gov.uk"
    assert "CONFIRM" in confirmation.get_body(("plain",)).get_content()
    tag = confirmation["Reply-To"].addresses[0].username.partition("+")[2]
    with service.session() as s:
        token = s.scalar(select(Token))
        assert token is not None and token.value == tag
        assert s.scalar(select(Participant)).status == Status.PENDING

    service.imap.deliver(reply_to(confirmation, SAM, "Confirm"))
    service.tick()

    welcome = service.smtp.wait_for(2)[1].message
    assert welcome["Subject"].startswith("Welcome")
    assert welcome["In-Reply-To"] and welcome["Auto-Submitted"] == "auto-replied"
    with service.session() as s:
        person = s.scalar(select(Participant))
        assert person.email == "sam.jones@leeds.gov.uk" and person.name == "Sam Jones"
        assert person.status == Status.ACTIVE
        actions = [a.action for a in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions == ["joined", "confirmed"]
        assert {m.action for m in s.scalars(select(InboundMessage))} == {"join-requested", "confirmed"}
    assert service.imap.fetch_all("INBOX") == []
    assert len(service.imap.fetch_all(processed_folder(service))) == 2

    service.tick()
    assert len(service.smtp.messages) == 2


def test_second_join_does_not_duplicate(service: Service) -> None:
    service.imap.deliver(incoming(SAM, "join"))
    service.imap.deliver(incoming("sam.jones@leeds.gov.uk", "Re: join", "JOIN please"))
    service.tick()
    with service.session() as s:
        assert len(s.scalars(select(Participant)).all()) == 1
    assert len(service.smtp.messages) == 1, "one confirmation per address per day"


def test_join_when_already_active_says_so(service: Service) -> None:
    service.imap.deliver(incoming(SAM, "JOIN"))
    service.tick()
    service.imap.deliver(reply_to(service.smtp.wait_for(1)[0].message, SAM, "CONFIRM"))
    service.tick()
    service.imap.deliver(incoming(SAM, "JOIN"))
    service.tick()
    third = service.smtp.wait_for(3)[2].message
    assert "already signed up" in third.get_body(("plain",)).get_content()
    with service.session() as s:
        assert s.scalar(select(Participant)).status == Status.ACTIVE


def test_confirm_without_token_does_not_activate(service: Service) -> None:
    service.imap.deliver(incoming(SAM, "JOIN"))
    service.tick()
    service.imap.deliver(incoming(SAM, "CONFIRM", "CONFIRM"))
    service.tick()
    with service.session() as s:
        assert s.scalar(select(Participant)).status == Status.PENDING
    answer = service.smtp.wait_for(2)[1].message
    assert "couldn't tell which request" in answer.get_body(("plain",)).get_content()


def test_confirm_found_through_references_when_sub_address_dropped(service: Service) -> None:
    service.imap.deliver(incoming(SAM, "JOIN"))
    service.tick()
    confirmation = service.smtp.wait_for(1)[0].message
    service.imap.deliver(incoming(SAM, "Re: confirm", "CONFIRM", to=SERVICE, in_reply_to=confirmation["Message-ID"]))
    service.tick()
    with service.session() as s:
        assert s.scalar(select(Participant)).status == Status.ACTIVE


def processed_folder(service: Service) -> str:
    return next(f for f in service.imap.folders() if f.endswith("processed"))
