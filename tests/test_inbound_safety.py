"""Nothing lost, nothing done twice, no robot ever answered (real IMAP, SMTP, both databases)."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from inbound.apply import Where, apply_message
from models import Disposition, InboundMessage, OutboundMessage, Participant
from tests.app import TEST_START, Service
from tests.mail import incoming

DSN = (b"From: MAILER-DAEMON@mx.example.net\r\nTo: coffee@example.org\r\nSubject: Undelivered Mail\r\n"
       b"Message-ID: <dsn1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\n"
       b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
       b"--b\r\nContent-Type: text/plain\r\n\r\nJOIN failed\r\n"
       b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
       b"Final-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n")


def folder(service: Service, suffix: str) -> list[bytes]:
    name = next((f for f in service.imap.folders() if f.endswith(suffix)), None)
    return service.imap.fetch_all(name) if name else []


def test_robots_are_filed_and_never_answered(service: Service) -> None:
    service.imap.deliver(incoming("ann@a.org", "Automatic reply: Please confirm", "I am away until Monday."))
    service.imap.deliver(incoming("bob@b.org", "JOIN", "x", headers={"Precedence": "bulk"}))
    service.imap.deliver(incoming("cat@c.org", "JOIN", "x", headers={"X-Unmentoring-Loop": "example.org"}))
    service.imap.deliver(DSN)
    out = service.tick().output
    assert "4 seen, 4 handled" in out
    assert service.smtp.messages == []
    assert len(folder(service, "processed")) == 4
    with service.session() as s:
        assert s.scalar(select(func.count(Participant.id))) == 0
        assert sorted(m.action for m in s.scalars(select(InboundMessage))) == ["bounce"] + ["ignored-robot"] * 3


def test_not_understood_gets_one_friendly_answer_a_day(service: Service) -> None:
    service.imap.deliver(incoming("dee@d.org", "Question", "Can I bring a friend?"))
    service.imap.deliver(incoming("dee@d.org", "Question again", "Hello?"))
    service.tick()
    assert len(service.smtp.messages) == 1
    body = service.smtp.messages[0].message.get_body(("plain",)).get_content()
    assert "didn't understand" in body and "JOIN" in body
    with service.session() as s:
        second = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()[1]
        assert (second.reason, second.capped) == (
            "not answered: the list of commands already went to this address today", True)


def test_an_answer_held_back_by_the_cap_is_recorded_as_such_and_counted_in_status(service: Service) -> None:
    """A robot we do not recognise writes again and again: only the daily cap stops our answers, and
    the organiser must be able to see that (and the record must not claim an answer went)."""
    service.set("service", "max_auto_replies_per_day", 2)
    for n, subject in enumerate(["HELP", "HELP", "HELP", "Can I bring a friend?"]):
        service.imap.deliver(incoming("dee@d.org", subject, "", message_id=f"<cap{n}@d.org>"))
    service.tick()
    assert len(service.smtp.messages) == 2
    with service.session() as s:
        records = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [(r.action, r.capped) for r in records] == [
            ("help-sent", False), ("help-sent", False), ("help-limited", True), ("not-understood", True)]
        assert records[3].reason.startswith("not answered: this address already had today's share of answers")
    out = service.cli("status").output
    assert "held back only by the daily answer cap: 2 messages that passed every robot check" in out
    assert 'from dee@d.org, "Can I bring a friend?": not answered' in out
    assert json.loads(service.cli("status", "--json").output)["capped"] == 2


def test_a_second_join_the_same_day_is_counted_as_held_back(service: Service) -> None:
    """A newsletter that starts "Join us" (from a sender we do not recognise as a robot) again and
    again: one confirmation request, then only the one-a-day limit stops the next."""
    for n in range(2):
        service.imap.deliver(incoming("news@events.example", "Join us on Thursday", "", message_id=f"<j{n}@e.x>"))
    service.tick()
    assert len(service.smtp.messages) == 1
    with service.session() as s:
        second = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()[1]
        assert (second.action, second.capped) == ("join-repeat", True)
        assert second.reason == ("not answered: a confirmation went to this address (or a +tag form of it) "
                                 "in the last day")
    assert "held back only by the daily answer cap: 1 message" in service.cli("status").output


def test_oversized_mail_is_quarantined_with_the_reason(service: Service) -> None:
    service.set("imap", "max_message_bytes", 5000)
    service.imap.deliver(incoming("eve@e.org", "JOIN", "x" * 20_000, message_id="<big@e.org>"))
    service.tick()
    assert len(folder(service, "quarantine")) == 1 and service.smtp.messages == []
    with service.session() as s:
        record = s.scalar(select(InboundMessage))
        assert record.message_id == "<big@e.org>" and record.disposition == Disposition.QUARANTINED
        assert "too large" in record.reason
    assert '"quarantined": 1' in service.cli("status", "--json").output


def test_redelivered_message_is_not_acted_on_twice(service: Service) -> None:
    join = incoming("fay@f.org", "JOIN", message_id="<same@f.org>")
    service.imap.deliver(join)
    service.tick()
    service.imap.deliver(join)
    out = service.tick().output
    assert "1 already done" in out
    assert len(service.smtp.messages) == 1 and len(folder(service, "processed")) == 2


def test_crash_after_commit_before_move_files_without_acting_again(service: Service) -> None:
    """What a run killed between the database commit and the IMAP move leaves behind."""
    raw = incoming("gus@g.org", "JOIN", message_id="<crash@g.org>")
    service.imap.deliver(raw)
    with service.session() as s, s.begin():
        apply_message(s, service.settings, raw, Where("INBOX", 1, 1), now=TEST_START)
    service.tick()
    assert service.imap.fetch_all("INBOX") == []
    assert len(service.smtp.messages) == 1
    with service.session() as s:
        assert s.scalar(select(func.count(OutboundMessage.id))) == 1



def test_wrong_imap_password_is_one_clear_line_and_the_outbox_still_goes(service: Service) -> None:
    from mailer.outbox import enqueue

    with service.session() as s, s.begin():
        person = Participant(email="hal@h.org", status="active", reply_token="tokhal")
        s.add(person)
        s.flush()
        enqueue(s, service.settings, template="participant/welcome", to=person, now=TEST_START)
    service.set("imap", "password", "wrong")
    result = service.cli("tick")
    assert result.exit_code == 1
    assert "IMAP login refused" in result.output and "check imap.user and imap.password" in result.output
    assert "outbox: 1 sent" in result.output and len(service.smtp.messages) == 1


def test_mail_from_our_own_sub_address_is_never_answered(service: Service) -> None:
    service.imap.deliver(incoming("Coffee <coffee+abc@example.org>", "HELP"))
    service.tick()
    assert service.smtp.messages == []


def test_a_sender_we_cannot_write_to_is_quarantined_with_what_to_do(service: Service) -> None:
    """An internationalised address (RFC 6531) needs SMTPUTF8, which we do not speak: no
    participant we could never email, no half-written answer, and the organiser sees why."""
    raw = incoming("ann@a.org", "JOIN", message_id="<eai@example.net>").replace(b"ann@a.org", "zoë@exämple.org".encode())
    service.imap.deliver(raw)
    service.tick()
    assert len(folder(service, "quarantine")) == 1 and service.smtp.messages == []
    with service.session() as s:
        record = s.scalar(select(InboundMessage))
        assert record.disposition == Disposition.QUARANTINED and "another address" in record.reason
        assert s.scalar(select(func.count(Participant.id))) == 0
    assert '"quarantined": 1' in service.cli("status", "--json").output


def test_status_lists_the_latest_quarantined_mail_with_its_reason(service: Service) -> None:
    service.set("imap", "max_message_bytes", 5000)
    service.imap.deliver(incoming("eve@e.org", "JOIN us", "x" * 20_000, message_id="<big@e.org>"))
    service.imap.deliver(b"From: Fay <fay@f.org>\r\nSubject: PAUSE\r\nMessage-ID: <mime@f.org>\r\n"
                         b'Content-Type: multipart/mixed; boundary="b"\r\n\r\nthe boundary never comes\r\n')
    service.tick()
    out = service.cli("status").output
    assert "quarantine: 2 messages" in out and "unmentoring/quarantine" in out
    assert 'from eve@e.org, "JOIN us": too large: ' in out
    assert 'from fay@f.org, "PAUSE": malformed MIME' in out
    latest = json.loads(service.cli("status", "--json").output)["quarantine_latest"]
    assert latest[-1]["from"] == "eve@e.org" and latest[-1]["reason"].startswith("too large")


def test_unusual_but_writable_addresses_are_answered(service: Service) -> None:
    """Apostrophes, plus-addressing, a quoted local part that needs no quotes, and the double dot
    some Japanese mobile operators issued all get their answer, at the address as written."""
    senders = ["o'brien+coffee@x.gov.uk", '"john.smith"@y.org', "taro..yamada@docomo.ne.jp"]
    for n, sender in enumerate(senders):
        raw = incoming("ann@a.org", "JOIN", message_id=f"<odd{n}@example.net>").replace(b"ann@a.org", sender.encode())
        service.imap.deliver(raw)
    assert "3 seen, 3 handled, 0 quarantined" in service.tick().output
    received = service.smtp.wait_for(3)
    expected = sorted(["o'brien+coffee@x.gov.uk", "john.smith@y.org", "taro..yamada@docomo.ne.jp"])
    assert sorted(r for m in received for r in m.rcpt_tos) == expected
    assert sorted(a.addr_spec for m in received for a in m.message["To"].addresses) == expected


def test_a_comma_in_the_senders_name_keeps_their_address_and_no_sender_is_quarantined(service: Service) -> None:
    """Some Outlook setups write "Jones, Sam <sam@…>" unquoted; mail with no readable sender cannot be
    answered, so the organiser is shown it rather than having it filed as a robot's."""
    service.imap.deliver(b"From: Jones, Sam <sam5@leeds.gov.uk>\r\nTo: coffee@example.org\r\nSubject: JOIN\r\n"
                         b"Message-ID: <comma@leeds.gov.uk>\r\n\r\nJOIN\r\n")
    service.imap.deliver(b"From: undisclosed-recipients:;\r\nTo: coffee@example.org\r\nSubject: JOIN\r\n"
                         b"Message-ID: <nobody@example.net>\r\n\r\nJOIN\r\n")
    assert "2 seen, 1 handled, 1 quarantined" in service.tick().output
    assert [m.rcpt_tos for m in service.smtp.wait_for(1)] == [["sam5@leeds.gov.uk"]]
    assert '"JOIN": no sender address we can read in its From header' in service.cli("status").output


INVITE = (b"From: Sam <sam@leeds.gov.uk>\r\nTo: coffee@example.org, kim@nhs.net\r\nSubject: Coffee with Kim\r\n"
          b"Message-ID: <invite@leeds.gov.uk>\r\nMIME-Version: 1.0\r\n"
          b'Content-Type: multipart/alternative; boundary="i"\r\n\r\n'
          b"--i\r\nContent-Type: text/plain\r\n\r\nLooking forward to it! Teams link below.\r\n"
          b"--i\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
          b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Coffee with Kim\r\n"
          b"DTSTART:20261203T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--i--\r\n")


def test_calendar_invitations_and_recalls_are_filed_unanswered(service: Service) -> None:
    """People invite their partner and, out of habit, everyone on the thread; Outlook sends recalls."""
    service.imap.deliver(INVITE)
    service.imap.deliver(incoming("Sam <sam@leeds.gov.uk>", "Recall: Coffee with Kim", "Sam would like to recall"))
    assert "2 seen, 2 handled, 0 quarantined" in service.tick().output
    assert service.smtp.messages == []
    with service.session() as s:
        assert sorted(r.action for r in s.scalars(select(InboundMessage))) == ["calendar", "ignored-robot"]
