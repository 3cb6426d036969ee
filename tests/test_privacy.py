"""FORGET erases the one person it names and everything naming them; MYDATA shows all we hold (both databases)."""
from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.outbox import enqueue
from models.mentions import addressed_to, names_person, redact
from models import Base, InboundMessage, MatchMember, OutboundMessage, Outcome, OutStatus, Participant, Share, Status
from tests.app import Service
from tests.mail import incoming, reply_to
from tests.test_rounds import at, run

SAM, KIM = "sam@leeds.gov.uk", "kim@nhs.net"
SERVICE = "coffee@example.org"


def add(service: Service, *people: tuple[str, str]) -> None:
    with service.session() as s, s.begin():
        for n, (email, name) in enumerate(people):
            s.add(Participant(email=email, name=name, status=Status.ACTIVE, reply_token=f"token{n}x{len(email)}",
                              confirmed_at=at("2026-11-02T10:00")))


def forget(service: Service, sender: str, when: str) -> None:
    """FORGET, then CONFIRM from the same address, as a person would."""
    service.imap.deliver(incoming(sender, "FORGET"))
    run(service, at(f"{when}T10:00"))
    request = service.smtp.messages[-1].message
    assert request["Subject"] == "Confirm: erase everything we hold about you"
    service.imap.deliver(incoming(sender, "Re: confirm", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec))
    service.smtp.clear()
    run(service, at(f"{when}T10:05"))
    assert "We've erased your details" in [c.message["Subject"] for c in service.smtp.messages]


def stored_text(session: Session) -> str:
    """Every value in every table, emails decoded part by part (a report attachment is base64)."""
    texts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()):
            for value in row:
                texts.append(email_text(value) if isinstance(value, bytes) else str(value))
    return "\n".join(texts).lower()


def email_text(raw: bytes) -> str:
    if not raw:
        return ""
    parts = []
    for part in message_from_bytes(raw, policy=default).walk():
        parts.extend(f"{k}: {v}" for k, v in part.items())
        if not part.is_multipart():
            content = part.get_content()
            parts.append(content if isinstance(content, str) else content.decode("latin-1"))
    return "\n".join(parts)


@pytest.mark.parametrize(("leaving", "staying"), [("al@x.org", "sal@x.org"), ("j_smith@gov.uk", "j.smith@gov.uk")])
def test_forget_erases_that_address_and_no_other(service: Service, leaving: str, staying: str) -> None:
    add(service, (leaving, "Leaving"), (staying, "Staying"))
    service.imap.deliver(incoming(staying, "HELP"))
    run(service, at("2026-12-01T09:00"))
    service.imap.deliver(incoming(leaving, "FORGET"))
    run(service, at("2026-12-01T10:00"))
    request = service.smtp.messages[-1].message
    with service.session() as s, s.begin():
        other = s.scalars(select(Participant).where(Participant.email == staying)).one()
        enqueue(s, service.settings, template="participant/still_in", to=other, now=at("2026-12-01T10:01"))
    service.imap.deliver(incoming(leaving, "Re: confirm", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec))
    run(service, at("2026-12-01T10:05"))
    assert [c.message["Subject"] for c in service.smtp.messages[-2:]] == \
        ["Still up for Coffee Roulette?", "We've erased your details"], "the other person's mail still goes"
    with service.session() as s:
        other_id = s.scalar(select(Participant.id).where(Participant.email == staying))
        theirs = s.scalars(select(OutboundMessage).where(OutboundMessage.participant_id == other_id)
                           .order_by(OutboundMessage.id)).all()
        assert [(row.kind, bool(row.raw and row.subject)) for row in theirs] == \
            [("help", True), ("intro", False), ("still_in", True)], "their copy of the group email named the other"
        assert s.scalar(select(InboundMessage.subject).where(InboundMessage.sender == staying)) == "HELP"
        assert s.scalars(select(Participant.email).order_by(Participant.id)).all() == ["forgotten-1@invalid", staying]


@pytest.mark.parametrize(("text", "found"), [
    ("550 5.1.1 <al@x.org>: no such user", True), ("permanent ['AL@X.org']", True), ("mail to al@x.org.", True),
    ("sal@x.org", False), ("x.al@x.org", False), ("al@x.org.uk", False), ("al@x.organic", False),
    ("al@x.org-mail.net", False), ("Al Jones wrote", False),
])
def test_an_address_is_found_only_whole(text: str, found: bool) -> None:
    assert names_person(text, "al@x.org") is found
    assert (redact(text, "al@x.org") != text) is found


def test_recipients_match_whole_addresses_whatever_the_case() -> None:
    assert addressed_to("kim@nhs.net\nJ_Smith@gov.uk", "j_smith@gov.uk")
    assert not addressed_to("j.smith@gov.uk\nsal@x.org", "j_smith@gov.uk")
    assert not addressed_to("sal@x.org", "al@x.org") and addressed_to("sal@x.org, al@x.org", "al@x.org")
    assert redact("Re: meet Sam Jones and Kim", "s@x.org", "sam jones") == "Re: meet [erased] and Kim"
    assert redact("Re: meet Al and Kim", "s@x.org", "Al") == "Re: meet Al and Kim", "two letters are not a name"


def quarantined(sender: str) -> bytes:
    """A multipart whose boundary never appears: kept aside for the organiser, with its sender and subject."""
    return (f"From: Sam Jones <{sender}>\r\nTo: {SERVICE}\r\nSubject: Sam Jones: my notes\r\n"
            "Message-ID: <broken@leeds.gov.uk>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=nowhere\r\n\r\nno parts at all\r\n").encode()


def bounce_of(intro_id: str) -> bytes:
    return (f"From: MAILER-DAEMON@mx.example.net\r\nTo: {SERVICE}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Message-ID: <dsn1@mx.example.net>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {SAM}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {intro_id}\r\n\r\n--b--\r\n").encode()


def a_round_with_sam_in_it(service: Service) -> EmailMessage:
    """Sam and Kim introduced; Sam reports NOT MET with a reason, shares a note, sends a mail we quarantine,
    is refused once by the SMTP server, bounces and is suspended; Kim replies in the thread; the round closes."""
    service.set("service", "bounce_limit", 1)
    add(service, (SAM, "Sam Jones"), (KIM, "Kim Lee"))
    run(service, at("2026-12-01T10:00"))
    intro = service.smtp.wait_for(1)[0].message
    service.imap.deliver(reply_to(intro, f"Sam Jones <{SAM}>", "NOT MET\nSam Jones was on leave all month"))
    service.imap.deliver(reply_to(intro, f"Kim Lee <{KIM}>", "Lovely, see you soon"))
    service.imap.deliver(quarantined(SAM))
    service.smtp.fail_next = [(550, f"5.1.1 <{SAM}>: mailbox full for Sam Jones")]
    run(service, at("2026-12-02T10:00"))
    service.imap.deliver(incoming(SAM, "SHARE", "Sam Jones wrote it up: https://blog.example/sam-jones",
                                  to=intro["Reply-To"].addresses[0].addr_spec))
    service.imap.deliver(bounce_of(intro["Message-ID"]))
    run(service, at("2026-12-03T10:00"))
    run(service, at("2027-01-04T10:00"))
    return intro


def test_forget_leaves_nothing_that_names_them(service: Service) -> None:
    a_round_with_sam_in_it(service)
    with service.session() as s:
        before = stored_text(s)
        assert s.scalar(select(Participant.status).where(Participant.email == SAM)) == Status.SUSPENDED
        kinds = s.scalars(select(OutboundMessage.kind).where(OutboundMessage.recipients == "organiser@example.org"))
        assert sorted(kinds) == ["bounce_notice", "digest"]
    assert "sam jones wrote it up" in before and "mailbox full for sam jones" in before and "my notes" in before
    forget(service, SAM, "2027-01-05")
    with service.session() as s:
        after = stored_text(s)
        assert s.scalar(select(Outcome.reason_group)) == "away" and len(s.scalars(select(MatchMember)).all()) == 2
        assert s.scalar(select(Share)) is None
    assert SAM not in after and "sam jones" not in after and "blog.example" not in after


def test_a_queued_digest_is_built_again_without_them(service: Service) -> None:
    a_round_with_sam_in_it(service)
    with service.session() as s, s.begin():
        digest = s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "digest")).one()
        digest.status, digest.next_try_at = OutStatus.QUEUED, at("2027-01-09T10:00")  # waiting for a retry
    forget(service, SAM, "2027-01-05")
    [digest] = [c.message for c in service.smtp.messages if c.rcpt_tos == ["organiser@example.org"]]
    assert digest["Subject"] == "Coffee Roulette: round 1 — 0 of 1 group met"
    report = next(digest.iter_attachments()).get_content()
    assert "<svg" in report and "Sam Jones" not in report and "blog.example" not in report


def test_a_goodbye_that_fails_is_erased_too(service: Service) -> None:
    add(service, (SAM, "Sam Jones"))
    service.imap.deliver(incoming(SAM, "FORGET"))
    run(service, at("2026-11-21T10:00"))
    request = service.smtp.messages[-1].message
    service.imap.deliver(incoming(SAM, "Re: confirm", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec))
    service.smtp.fail_next = [(550, f"5.1.1 <{SAM}>: no such user")]
    run(service, at("2026-11-21T10:05"))
    with service.session() as s:
        goodbye = s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "forgotten")).one()
        assert goodbye.status == OutStatus.FAILED
        assert SAM not in stored_text(s) and "sam jones" not in stored_text(s)


def test_mydata_holds_everything_kept_about_them(service: Service) -> None:
    add(service, (SAM, "Sam Jones"), (KIM, "Kim Lee"))
    run(service, at("2026-12-01T10:00"))
    intro = service.smtp.wait_for(1)[0].message
    service.imap.deliver(reply_to(intro, f"Sam Jones <{SAM}>", "NOT MET\nI was on leave all month"))
    service.imap.deliver(quarantined(SAM))
    service.imap.deliver(bounce_of(intro["Message-ID"]))
    run(service, at("2026-12-02T10:00"))
    service.imap.deliver(incoming(SAM, "SKIP", to=intro["Reply-To"].addresses[0].addr_spec))
    run(service, at("2026-12-03T10:00"))
    service.imap.deliver(incoming(SAM, "MYDATA"))
    run(service, at("2026-12-04T10:00"))
    text = service.smtp.messages[-1].message.get_body(("plain",)).get_content()
    assert "Round 1, 2 December 2026: NOT MET (I was on leave all month)" in text
    assert "Sitting out the next round (SKIP)" in text
    assert "Email to you last bounced on 2 December 2026; mail from you since then cleared it" in text
    assert "3 Dec 2026 10:00: skip-next, by email" in text
    assert '2 Dec 2026 10:00: "Sam Jones: my notes" from sam@leeds.gov.uk: quarantined' in text
    assert '1 Dec 2026 10:00: "Coffee Roulette: meet Sam Jones and Kim Lee" (sent)' in text
    assert '3 Dec 2026 10:00: "Re: Coffee Roulette: meet Sam Jones and Kim Lee" (sent)' in text
    service.imap.deliver(incoming(SAM, "PAUSE until 1 March", to=intro["Reply-To"].addresses[0].addr_spec))
    service.imap.deliver(incoming(SAM, "MYDATA"))
    run(service, at("2026-12-05T10:00"))
    assert "Paused until 1 March 2027" in service.smtp.messages[-1].message.get_body(("plain",)).get_content()
