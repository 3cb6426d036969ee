"""Nobody acts in someone else's name, and the service cannot be used to mail-bomb (both databases)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from config import ConfigError, from_mapping
from inbound.parse import parse
from inbound.untrusted import person_name, quotation
from mailer.compose import Envelope, address, compose
from mailer.render import Rendered
from models import InboundMessage, Outcome, Participant, Share, Status
from tests.app import TEST_START, Service
from tests.mail import incoming
from tests.test_compose import INJECTIONS, LONG_WORDS, WIDE
from tests.test_commands import SAM, add_sam, sam, sam_and_kim_introduced

FORGED_SHARE = ("SHARE Your Coffee Roulette account is locked: sign in at https://coffee-roulette.evil.example/login "
                "or write to help@evil.example today")


def raw_mail(sender: str, subject: str, to: str = "coffee@example.org", body: str = "") -> bytes:
    """A message with its From header exactly as given (EmailMessage would tidy a malformed one)."""
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{abs(hash(sender + subject))}@x.example>"
            f"\r\n\r\n{body or subject}\r\n").encode()


def body_of(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


def test_a_forged_outcome_does_not_replace_the_real_one(service: Service) -> None:
    """Sam reports MET in the group's thread; a forger writes NOT MET, with a reason, from Sam's address."""
    token = sam_and_kim_introduced(service)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "Re: meet Kim", "MET, great chat", to=f"coffee+{token}@example.org"))
    service.tick()
    service.imap.deliver(incoming(f"Sam <{SAM}>", "NOT MET", "Sam never turned up and was rude about it"))
    service.tick()
    with service.session() as s:
        assert [(o.met, o.reason) for o in s.scalars(select(Outcome))] == [(True, "")]
    request = service.smtp.messages[-1]
    assert request.rcpt_tos == [SAM] and request.message["Subject"] == "Please confirm: NOT MET"
    assert 'NOT MET ("Sam never turned up and was rude about it") from your address' in body_of(request.message)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "Re: Please confirm: NOT MET", "CONFIRM",
                                  to=request.message["Reply-To"].addresses[0].addr_spec))
    service.tick()
    with service.session() as s:
        outcomes = s.scalars(select(Outcome).order_by(Outcome.id)).all()
    assert [o.met for o in outcomes] == [True, False], "once Sam confirms, the report counts, for the same group"


def test_an_outcome_in_the_thread_from_a_member_who_failed_dmarc_is_confirmed_first(service: Service) -> None:
    token = sam_and_kim_introduced(service)
    service.set("service", "trusted_authserv_id", "mx.example.org")
    failed = "mx.example.org; dkim=none; dmarc=fail (p=reject) header.from=leeds.gov.uk"
    service.imap.deliver(incoming(f"Sam <{SAM}>", "Re: meet Kim", "NOT MET, Sam cancelled twice",
                                  to=f"coffee+{token}@example.org", headers={"Authentication-Results": failed}))
    service.tick()
    with service.session() as s:
        assert s.scalar(select(Outcome)) is None
    assert service.smtp.messages[-1].message["Subject"] == "Please confirm: NOT MET"


def test_a_forged_share_is_quoted_briefly_without_links_in_the_confirmation(service: Service) -> None:
    add_sam(service)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "Hello", FORGED_SHARE))
    service.tick()
    with service.session() as s:
        assert s.scalar(select(Share)) is None
    [request] = service.smtp.messages
    text, html = body_of(request.message), request.message.get_body(("html",)).get_content()
    assert request.rcpt_tos == [SAM] and request.message["Subject"] == "Please confirm: SHARE"
    assert "evil.example" not in text and "evil.example" not in html
    quoted = text.split('("', 1)[1].split('")', 1)[0]
    assert quoted == "Your Coffee Roulette account is locked: sign in at…"


def test_a_display_name_holding_a_link_or_an_address_is_not_stored_or_written(service: Service) -> None:
    service.imap.deliver(raw_mail('"Claim your prize at https://evil.example/win now" <ann@camden.gov.uk>', "JOIN"))
    service.imap.deliver(raw_mail('"Bo: bo.smith@leeds.gov.uk, see www.evil.example" <bo@nhs.net>', "JOIN"))
    service.tick()
    with service.session() as s:
        names = dict(s.execute(select(Participant.email, Participant.name)).all())
    assert names == {"ann@camden.gov.uk": "Claim your prize at now", "bo@nhs.net": "Bo: see"}
    for message in service.smtp.wait_for(2):
        assert "evil" not in message.message["To"] and "@leeds" not in str(message.message["To"])


def test_a_from_that_could_be_read_two_ways_is_quarantined(service: Service) -> None:
    """Unquoted, "Sam: sam@… <attacker@…>" was read as Sam's address, and this one carries Sam's own
    token (from an email Sam forwarded); an address made of an encoded word became a participant."""
    add_sam(service)
    service.imap.deliver(raw_mail(f"Sam: {SAM} <attacker@evil.example>", "PAUSE", to="coffee+samtoken1@example.org"))
    service.imap.deliver(raw_mail("=?utf-8?q?kim=40nhs.net=0D=0A?=@evil.example", "JOIN"))
    service.imap.deliver(raw_mail(f"{SAM} <attacker@evil.example>", "RESUME", to="coffee+samtoken1@example.org"))
    assert "3 seen, 0 handled, 3 quarantined" in service.tick().output
    assert sam(service).status == Status.ACTIVE and not service.smtp.messages
    with service.session() as s:
        assert s.scalars(select(Participant.email)).all() == [SAM]
        reasons = sorted(m.reason for m in s.scalars(select(InboundMessage)))
    assert "encoded word" in reasons[0] and "unquoted ':'" in reasons[1] and "unquoted '@'" in reasons[2]
    assert "from Sam: sam@leeds.gov.uk <attacker@evil.example>" in service.cli("status").output


def test_a_quoted_name_holding_an_address_is_read_as_the_angle_address(service: Service) -> None:
    service.imap.deliver(raw_mail(f'"Sam: {SAM}" <attacker@evil.example>', "JOIN"))
    service.imap.deliver(raw_mail("=?utf-8?q?sam=40leeds.gov.uk=0D=0A?= <mallory@evil.example>", "JOIN"))
    service.tick()
    with service.session() as s:
        people = dict(s.execute(select(Participant.email, Participant.name)).all())
    assert people == {"attacker@evil.example": "Sam", "mallory@evil.example": ""}


def test_quotations_and_names_keep_plain_words_only() -> None:
    assert quotation("notes at https://evil.example/x\nsecond line") == "notes at [link removed]"
    assert quotation("write to sam@evil.example or visit evil.example/login") == (
        "write to [link removed] or visit [link removed]")
    assert person_name("Sam Jones (sam@leeds.gov.uk)") == "Sam Jones"
    assert person_name("Dr. J.R. O'Brien-Smith") == "Dr. J.R. O'Brien-Smith"
    assert person_name("=?utf-8?q?x?= www.evil.example\r\nBcc: x") == "=?utf-8?q?x?= Bcc: x"


def test_limits_count_every_tag_form_of_an_address_as_one(service: Service) -> None:
    """Forged JOINs from ann+1@, ann+2@ ... each made a participant and mailed Ann a confirmation."""
    for n in range(1, 6):
        service.imap.deliver(raw_mail(f"Ann <ann+{n}@camden.gov.uk>", "JOIN"))
        service.imap.deliver(raw_mail(f"Bo <b.o+{n}@googlemail.com>", "HELP"))
    service.tick()
    sent = service.smtp.wait_for(1 + 5)
    assert sorted(m.message["Subject"] for m in sent).count("Please confirm you'd like to join Coffee Roulette") == 1
    assert len([m for m in sent if m.rcpt_tos[0].startswith("b.o+")]) == 5, "max_auto_replies_per_day, once"
    service.imap.deliver(raw_mail("Bo <bo@gmail.com>", "HELP"))
    service.tick()
    assert len(service.smtp.messages) == 6
    with service.session() as s:
        assert s.scalars(select(Participant.email)).all() == ["ann+1@camden.gov.uk"]


def test_an_hourly_cap_on_answers_to_strangers_holds_the_rest_in_quarantine(service: Service) -> None:
    """A few hundred forged JOINs from different addresses would use the day's sending quota."""
    add_sam(service)
    service.set("service", "stranger_answers_per_hour", 3)
    for n in range(5):
        service.imap.deliver(raw_mail(f"Person {n} <p{n}@example.net>", "JOIN"))
    service.imap.deliver(raw_mail(f"Sam <{SAM}>", "HELP"))
    assert "6 seen, 4 handled, 2 quarantined" in service.tick().output
    assert sorted(r for m in service.smtp.messages for r in m.rcpt_tos) == ["p0@example.net", "p1@example.net",
                                                                            "p2@example.net", SAM]
    with service.session() as s:
        assert s.scalar(select(Participant).where(Participant.email == "p3@example.net")) is None
        held = [m.id for m in s.scalars(select(InboundMessage).where(InboundMessage.action == "held-back"))]
    status = service.cli("status").output
    assert "answers to people not taking part: 3 in the last hour, at most 3" in status
    assert "2 messages held back by it" in status and "quarantine: 2 messages" in status
    service.travel(TEST_START + timedelta(hours=2))
    assert "back in the inbox" in service.cli("quarantine", "retry", *map(str, held)).output
    service.tick()
    assert sorted(m.rcpt_tos[0] for m in service.smtp.messages)[3:5] == ["p3@example.net", "p4@example.net"]


def test_the_cap_on_answers_to_strangers_is_validated() -> None:
    def load(**service: object) -> object:
        return from_mapping({"service": service, "smtp": {"rate_per_minute": 1}}, env={})

    with pytest.raises(ConfigError, match="stranger_answers_per_hour: 0; use at least 1"):
        load(stranger_answers_per_hour=0)
    with pytest.raises(ConfigError, match="use at most 30, so round mail keeps room"):
        load(stranger_answers_per_hour=31)
    assert load(stranger_answers_per_hour=30).service.stranger_answers_per_hour == 30  # type: ignore[attr-defined]


def test_round_mail_goes_before_answers_to_strangers(service: Service) -> None:
    """Answers to forged JOINs waiting in the outbox must not stand before a round's introduction
    when the sending quota runs out."""
    add_sam(service)
    with service.session() as s, s.begin():
        s.add(Participant(email="kim@nhs.net", status=Status.ACTIVE, reply_token="kimtoken"))
    for n in range(3):
        service.imap.deliver(raw_mail(f"p{n}@example.net", "JOIN"))
    service.smtp.fail_next = [(451, "4.3.0 try again later")] * 3
    service.tick()
    service.cli("round", "open")
    service.travel(TEST_START + timedelta(minutes=10))
    service.tick()
    first, second, *rest = service.smtp.messages
    assert sorted(first.rcpt_tos + second.rcpt_tos) == ["kim@nhs.net", SAM], "the introduction (a copy each) first"
    assert sorted(m.rcpt_tos[0] for m in rest) == ["p0@example.net", "p1@example.net", "p2@example.net"]


ACCEPTED = {
    "Sam Jones <sam@leeds.gov.uk>": ("sam@leeds.gov.uk", "Sam Jones"),
    "Sam J. Jones <Sam@Leeds.gov.uk>": ("sam@leeds.gov.uk", "Sam J. Jones"),
    '"Jones, Sam" <sam@leeds.gov.uk>': ("sam@leeds.gov.uk", "Jones, Sam"),
    "Jones, Sam <sam@leeds.gov.uk>": ("sam@leeds.gov.uk", "Jones, Sam"),
    "sam@leeds.gov.uk (Sam Jones)": ("sam@leeds.gov.uk", "Sam Jones"),
    '"sam@leeds.gov.uk" <sam@leeds.gov.uk>': ("sam@leeds.gov.uk", "sam@leeds.gov.uk"),
    '"Sam: sam@leeds.gov.uk" <kim@nhs.net>': ("kim@nhs.net", "Sam: sam@leeds.gov.uk"),
    "=?utf-8?q?sam=40leeds.gov.uk=0D=0A?= <kim@nhs.net>": ("kim@nhs.net", "sam@leeds.gov.uk"),
    '"john.smith"@x.org': ("john.smith@x.org", ""),
    "<taro..yamada@docomo.ne.jp>": ("taro..yamada@docomo.ne.jp", ""),
}
AMBIGUOUS = {
    "Sam: sam@leeds.gov.uk <kim@nhs.net>": "unquoted ':'",
    "sam@leeds.gov.uk <kim@nhs.net>": "unquoted '@'",
    "Sam <sam@leeds.gov.uk>, Kim <kim@nhs.net>": "more than one <address>",
    "Sam <sam@leeds.gov.uk> <kim@nhs.net>": "more than one <address>",
    "Sam <sam@leeds.gov.uk> kim@nhs.net": "text after the <address>",
    "Sam <sam@leeds.gov.uk": "never closed",
    '"Sam <sam@leeds.gov.uk>': "never closed",
    "=?utf-8?q?sam=40leeds.gov.uk=0D=0A?=@evil.example": "encoded word",
    '<"sam@leeds.gov.uk"@evil.example>': "hides another",
    "<@evil.example:sam@leeds.gov.uk>": "not one plain address",
    "undisclosed-recipients:;": "not one plain address",
    "": "no From header",
}


@pytest.mark.parametrize("value", ACCEPTED)
def test_the_from_forms_people_send_are_read(value: str) -> None:
    mail = parse(f"From: {value}\r\nSubject: MET\r\n\r\nok\r\n".encode())
    assert (mail.sender, mail.sender_name, mail.sender_problem) == (*ACCEPTED[value], "")


@pytest.mark.parametrize("value", AMBIGUOUS)
def test_a_from_that_could_be_read_two_ways_is_never_guessed_at(value: str) -> None:
    mail = parse(f"From: {value}\r\nSubject: MET\r\n\r\nok\r\n".encode())
    assert mail.sender == "" and AMBIGUOUS[value] in mail.sender_problem


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(WIDE, INJECTIONS, LONG_WORDS))
def test_every_from_we_write_is_read_back_as_its_address(name: str) -> None:
    """Whatever name a participant gave, the From our composer writes (quoted, encoded, folded) is one mailbox."""
    env = Envelope(sender=address("p0@org.example.net", name), to=[address("coffee@example.org")], reply_to=[],
                   message_id="<m.x.y@example.org>", date=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc),
                   loop_id="example.org")
    mail = parse(compose(Rendered(subject="s", text="t", html="<p>t</p>"), env))
    assert (mail.sender, mail.sender_problem) == ("p0@org.example.net", "")
