"""Where our emails land in a reader's mail client: References chains, the subject a group's thread keeps,
the "-- " footer line and the name greetings use (real IMAP/SMTP, both databases)."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from models import OutboundMessage, Participant, Status
from tests.app import Service
from tests.mail import incoming, reply_to
from tick import tick

SAM, KIM = "sam@leeds.gov.uk", "kim@nhs.net"
PERSONAL = "coffee+samtoken1@example.org"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


def run(service: Service, when: datetime) -> list[EmailMessage]:
    """One tick at `when`; the emails it sent."""
    before = len(service.smtp.messages)
    report = tick(service.engine, service.settings, now=lambda: when)
    assert report.errors == []
    return [c.message for c in service.smtp.messages[before:]]


def add_sam_and_kim(service: Service) -> None:
    with service.session() as s, s.begin():
        s.add(Participant(email=SAM, name="Sam Jones", status=Status.ACTIVE, reply_token="samtoken1",
                          confirmed_at=at("2026-11-02T10:00")))
        s.add(Participant(email=KIM, name="Kim Lee", status=Status.ACTIVE, reply_token="kimtoken1",
                          confirmed_at=at("2026-11-02T10:00")))


def text_of(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def first_line(msg: EmailMessage) -> str:
    """The first line after our "reply above this line" marker."""
    return text_of(msg).split("\n")[2]


@pytest.mark.parametrize("subject, to, expected", [
    ("PROFILE", PERSONAL, "Your Coffee Roulette profile"),
    ("STOP", "coffee@example.org", "Please confirm: LEAVE"),
    ("HELP", PERSONAL, "How Coffee Roulette works"),
])
def test_an_answer_continues_the_thread_it_answers(service: Service, subject: str, to: str, expected: str) -> None:
    """RFC 5322 3.6.4: the parent's References, then the parent's Message-ID (mutt threads by that alone)."""
    add_sam_and_kim(service)
    refs = {"References": "<root@mail.example.net> <middle@mail.example.net>",
            "In-Reply-To": "<middle@mail.example.net>"}
    service.imap.deliver(incoming(f"Sam <{SAM}>", subject, to=to, message_id="<parent@mail.example.net>",
                                  headers=refs))
    [answer] = run(service, at("2026-11-20T10:00"))
    assert answer["Subject"] == expected, "an answer outside a group's thread keeps a subject that says what it is"
    assert answer["In-Reply-To"] == "<parent@mail.example.net>"
    assert answer["References"].split() == ["<root@mail.example.net>", "<middle@mail.example.net>",
                                            "<parent@mail.example.net>"]


def test_without_references_an_answer_follows_the_one_in_reply_to(service: Service) -> None:
    add_sam_and_kim(service)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "PROFILE", to=PERSONAL, message_id="<parent@mail.example.net>",
                                  headers={"In-Reply-To": "<earlier@mail.example.net>"}))
    [answer] = run(service, at("2026-11-20T10:00"))
    assert answer["References"].split() == ["<earlier@mail.example.net>", "<parent@mail.example.net>"]


def test_every_email_about_a_group_keeps_the_introductions_subject(service: Service) -> None:
    """Gmail starts a new conversation when the subject changes, even with the right References: the nudge,
    the check-in and our answers in the thread all say `Re: <introduction's subject>`, even after a member
    renamed themselves; the check-in's question moves to its first line."""
    add_sam_and_kim(service)
    intro, _ = run(service, at("2026-12-01T10:00"))
    assert intro["Subject"] == "Coffee Roulette: meet Sam Jones and Kim Lee"
    service.imap.deliver(incoming(f"Kim <{KIM}>", "PROFILE", "Name: Kimberly Lee", to="coffee+kimtoken1@example.org"))
    run(service, at("2026-12-02T10:00"))
    nudge, _ = run(service, at("2026-12-18T09:05"))
    checkin, _ = run(service, at("2026-12-29T09:05"))
    for msg in (nudge, checkin):
        assert msg["Subject"] == f"Re: {intro['Subject']}"
        assert msg["References"] == msg["In-Reply-To"] == intro["Message-ID"]
    assert first_line(checkin) == "Did you meet, Sam and Kimberly? This round ends on Monday 4 January."
    service.imap.deliver(reply_to(checkin, f"Sam <{SAM}>", "MET, we had a lovely chat"))  # References: the check-in
    [thanks] = run(service, at("2026-12-30T10:00"))
    assert thanks["Subject"] == f"Re: {intro['Subject']}"
    assert thanks["References"].split() == [checkin["Message-ID"], thanks["In-Reply-To"]]
    assert first_line(thanks) == "Thanks Sam!"


def test_the_footer_starts_with_the_standard_separator_line(service: Service) -> None:
    """"-- " (with its space) is how every mail client knows a footer, and leaves it out of a quoted reply."""
    add_sam_and_kim(service)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "HELP", to=PERSONAL))
    intro, _, answer = run(service, at("2026-12-01T10:00"))
    for msg in (intro, answer):
        assert "\n-- \nCoffee Roulette introduces people" in text_of(msg)


def test_greetings_use_the_name_a_person_asks_for(service: Service) -> None:
    """"Call me:" in PROFILE: cleaned like a name (no links), bounded, shown back, and used by every greeting;
    without it, the first word of the name."""
    add_sam_and_kim(service)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "PROFILE", "Call me: Sammy https://evil.example/x", to=PERSONAL))
    [answer] = run(service, at("2026-11-20T10:00"))
    assert first_line(answer) == "Hello Sammy,"
    assert "- Call me: Sammy\n" in text_of(answer) and "evil" not in text_of(answer)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "MYDATA", to=PERSONAL))
    service.imap.deliver(incoming(f"Kim <{KIM}>", "PROFILE", to="coffee+kimtoken1@example.org"))
    mydata, kims = run(service, at("2026-11-21T10:00"))
    assert "- Call me: Sammy\n" in text_of(mydata) and first_line(mydata) == "Hello Sammy,"
    assert first_line(kims) == "Hello Kim," and "- Call me: Kim (from your name)\n" in text_of(kims)
    intro, _ = run(service, at("2026-12-01T10:00"))
    assert first_line(intro) in ("Hello Sammy and Kim,", "Hello Kim and Sammy,")
    assert intro["Subject"] in ("Coffee Roulette: meet Sam Jones and Kim Lee", "Coffee Roulette: meet Kim Lee and Sam Jones")
    service.imap.deliver(incoming(f"Sam <{SAM}>", "PROFILE", "Call me: " + "S" * 100, to=PERSONAL))
    run(service, at("2026-12-02T10:00"))
    with service.session() as s:
        assert s.scalar(select(Participant.call_me).where(Participant.email == SAM)) == "S" * 60


def test_each_member_gets_a_group_email_with_their_own_list_unsubscribe(service: Service) -> None:
    """The big providers' bulk-sender rules expect List-Unsubscribe (one-click where there is an endpoint) on
    every subscribed email: each member's copy of a group email points at their own token, and all copies
    share one Message-ID, so a reply from either member threads under it for both."""
    add_sam_and_kim(service)
    service.set("service", "unsubscribe_url", "https://coffee.example.org/leave/{token}")
    run(service, at("2026-12-01T10:00"))
    run(service, at("2026-12-18T09:05"))
    run(service, at("2026-12-29T09:05"))
    copies = service.smtp.messages
    assert len(copies) == 6 and len({c.message["Message-ID"] for c in copies}) == 3
    for captured in copies:
        msg, [to] = captured.message, captured.rcpt_tos
        token = {SAM: "samtoken1", KIM: "kimtoken1"}[to]
        assert {a.addr_spec for a in msg["To"].addresses} == {SAM, KIM}, "each copy is addressed to the whole group"
        assert msg["List-Unsubscribe"] == (f"<https://coffee.example.org/leave/{token}>, "
                                           f"<mailto:coffee+{token}@example.org?subject=LEAVE>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with service.session() as s:
        rows = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [r.participant_id is not None for r in rows] == [True] * 6, "each copy is the member's, for MYDATA"
