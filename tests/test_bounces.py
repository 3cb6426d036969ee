"""Bounces: counted per participant, suspended at the limit with a notice to the organiser, never answered."""
from __future__ import annotations

from sqlalchemy import select

from inbound.bounces import read_bounce
from models import InboundMessage, OutboundMessage, OutStatus, Participant, Status
from tests.app import Service
from tests.test_rounds import at, run

GONE = "gone@example.net"


def dsn(recipient: str, action: str = "failed", status: str = "5.1.1", n: int = 1, to: str = "coffee@example.org") -> bytes:
    return (f"From: MAILER-DAEMON@mx.example.net\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: <dsn{n}.{action}.{status}@mx.example.net>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{OURS}--b--\r\n").encode()


OURS = ("From: Coffee Roulette <coffee@example.org>\r\nSubject: Coffee Roulette: meet Gone and Kim\r\n"
        "Message-ID: <intro.grouptoken1.0a1b2c3d4e5f@example.org>\r\nX-Unmentoring-Loop: example.org\r\n\r\n")


QMAIL = (b"From: MAILER-DAEMON@mail.example.net\r\nTo: coffee@example.org\r\nSubject: failure notice\r\n"
         b"Message-ID: <qmail1@mail.example.net>\r\n\r\n"
         b"Hi. This is the qmail-send program at mail.example.net.\r\n"
         b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
         b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
         b"<gone@example.net>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
         b"--- Below this line is a copy of the message.\r\n\r\n"
         b"Message-ID: <intro.grouptoken1.0a1b2c3d4e5f@example.org>\r\nSubject: Coffee Roulette\r\n\r\nHello\r\n")


def test_reading_reports() -> None:
    assert read_bounce(dsn(GONE)).permanent == [GONE]
    assert read_bounce(dsn(GONE, "failed", "5.7.1")).policy == [GONE]
    assert read_bounce(dsn(GONE, "delayed", "4.4.1")).temporary == [GONE]
    assert read_bounce(QMAIL).permanent == [GONE]


OUR_ID = "<intro.grouptoken1.0a1b2c3d4e5f@example.org>"


def add_person(service: Service) -> None:
    """Gone, and the introduction we sent them that the reports below quote."""
    with service.session() as s, s.begin():
        s.add(Participant(email=GONE, name="Gone", status=Status.ACTIVE, reply_token="gonetoken"))
        s.add(OutboundMessage(message_id=OUR_ID, kind="intro", mail_from="coffee@example.org",
                              recipients=f"{GONE}\nkim@nhs.net", subject="Coffee Roulette", raw=b"",
                              status=OutStatus.SENT, next_try_at=at("2026-11-30T10:00"),
                              created_at=at("2026-11-30T10:00")))


def person(service: Service) -> Participant:
    with service.session() as s:
        return s.scalar(select(Participant))


def test_hard_bounces_suspend_and_tell_the_organiser(service: Service) -> None:
    add_person(service)
    service.imap.deliver(dsn(GONE, "failed", "5.7.1", n=1))
    service.imap.deliver(dsn(GONE, "delayed", "4.4.1", n=2))
    run(service, at("2026-12-01T10:00"))
    assert person(service).bounce_score == 0, "policy rejections and delays are not the mailbox's fault"
    for n, day in enumerate(["2026-12-01", "2026-12-17", "2026-12-28"]):
        service.imap.deliver(dsn(GONE, n=10 + n) if n != 1 else QMAIL)
        run(service, at(f"{day}T10:00"))
    assert person(service).status == Status.SUSPENDED and person(service).bounce_score == 3
    notices = [c for c in service.smtp.messages if c.rcpt_tos == ["organiser@example.org"]]
    assert len(notices) == 1 and "participants resume gone@example.net" in \
        notices[0].message.get_body(("plain",)).get_content()
    assert all(c.rcpt_tos != [GONE] for c in service.smtp.messages), "a bounce is never answered"


def test_one_failure_reported_many_times_a_day_counts_once(service: Service) -> None:
    add_person(service)
    for n in range(4):
        service.imap.deliver(dsn(GONE, n=20 + n) if n != 1 else QMAIL)
    run(service, at("2026-12-01T10:00"))
    service.imap.deliver(dsn(GONE, n=30))
    run(service, at("2026-12-01T16:00"))
    assert (person(service).bounce_score, person(service).status) == (1, Status.ACTIVE)


def test_an_old_bounce_is_forgotten(service: Service) -> None:
    add_person(service)
    for n, day in enumerate(["2026-01-05", "2026-06-01", "2026-12-01"]):
        service.imap.deliver(dsn(GONE, n=40 + n))
        run(service, at(f"{day}T10:00"))
        assert person(service).bounce_score == 1, f"{day}: more than 90 days after the last one"
    service.imap.deliver(dsn(GONE, n=50))
    run(service, at("2027-02-26T10:00"))
    assert (person(service).bounce_score, person(service).status) == (2, Status.ACTIVE), "87 days: still counts"


def test_verp_names_who_bounced_and_mail_from_them_clears_the_score(service: Service) -> None:
    service.set("smtp", "verp", True)
    add_person(service)
    service.cli("participants", "pause", GONE)
    assert service.settings.smtp.verp
    plain = (b"From: postmaster@mx.example.net\r\nTo: coffee+b-gonetoken@example.org\r\nSubject: Returned mail\r\n"
             b"Message-ID: <verp1@mx.example.net>\r\n\r\nSomething went wrong with an address we won't name.\r\n")
    service.imap.deliver(plain)
    service.tick()
    assert person(service).bounce_score == 1
    service.imap.deliver(f"From: {GONE}\r\nTo: coffee+gonetoken@example.org\r\nSubject: RESUME\r\n"
                         "Message-ID: <back@example.net>\r\n\r\n".encode())
    service.tick()
    assert person(service).bounce_score == 0 and person(service).status == Status.ACTIVE
    with service.session() as s:
        sent = s.scalars(select(OutboundMessage).where(OutboundMessage.recipients == GONE)).all()
        assert sent and all(o.mail_from == "coffee+b-gonetoken@example.org" for o in sent)


def test_a_report_that_quotes_no_mail_of_ours_to_that_address_counts_for_nothing(service: Service) -> None:
    """Anyone can write a delivery report naming a participant; three on three days would suspend them.
    Our loop header and an invented Message-ID of our form are easy to write too."""
    add_person(service)
    invented = OURS.replace(OUR_ID, "<intro.x.000000000000@example.org>")
    for n, day in enumerate(["2026-12-01", "2026-12-02", "2026-12-03"]):
        forged = dsn(GONE, n=60 + n).replace(OURS.encode(), invented.encode())
        service.imap.deliver(forged)
        run(service, at(f"{day}T10:00"))
    service.imap.deliver(dsn("kim@nhs.net", n=70))
    run(service, at("2026-12-04T10:00"))
    assert (person(service).bounce_score, person(service).status) == (0, Status.ACTIVE)
    assert service.smtp.messages == [], "no notice to the organiser, no answer to the forger"
    with service.session() as s:
        reasons = [r.reason for r in s.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert reasons[0] == "counted for 0 of 0 participants; not counted: it quotes no email of ours to gone@example.net"
    assert reasons[-1] == ("counted for 0 of 0 participants; permanent ['kim@nhs.net'], temporary [], policy []"), \
        "the email did go to Kim, so the report is read; she is no participant here"
