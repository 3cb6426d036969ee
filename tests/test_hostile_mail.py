"""One email never stops the service (real IMAP, SMTP, both databases).

Whatever a message holds (a Message-ID of thousands of characters, a subject that decodes to
NUL, binary headers, broken encodings, MIME nested too deep), it is acted on, or quarantined,
or at worst left in the inbox and reported; and the rest of the inbox, the round steps and the
sending go on.
"""
from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from models import Disposition, InboundMessage, Outcome, Participant, Purpose, Share, Status, Token
from models.bounded import storable
from tests.app import Service
from tests.harness.dovecot import Dovecot
from tests.mail import incoming
from tests.test_commands import PERSONAL, SAM, sam_and_kim_introduced

QUARANTINE, PROCESSED = "unmentoring/quarantine", "unmentoring/processed"


def records(service: Service) -> list[InboundMessage]:
    with service.session() as s:
        return list(s.scalars(select(InboundMessage).order_by(InboundMessage.uid)))


def confirmations_to(service: Service, address: str) -> int:
    return sum(address in m.rcpt_tos for m in service.smtp.messages)


def test_a_message_id_of_2000_characters_is_handled_and_the_run_goes_on(service: Service) -> None:
    service.imap.deliver(incoming("ann@a.org", "JOIN", message_id="<" + "a" * 2000 + "@a.org>"))
    service.imap.deliver(incoming("bob@b.org", "JOIN"))
    assert "2 seen, 2 handled" in service.tick().output
    assert confirmations_to(service, "ann@a.org") == confirmations_to(service, "bob@b.org") == 1
    ann = records(service)[0]
    assert ann.message_id.startswith("sha256:") and ann.sender == "ann@a.org"
    redelivered = b"Received: from relay.example.net; Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    service.imap.deliver(redelivered + service.imap.fetch_all(PROCESSED)[0])
    assert "1 already done" in service.tick().output
    assert confirmations_to(service, "ann@a.org") == 1


def test_a_subject_that_decodes_to_nul_is_handled_and_the_run_goes_on(service: Service) -> None:
    service.imap.deliver(incoming("ann@a.org", "x").replace(b"Subject: x", b"Subject: =?utf-8?q?JOIN=00b?="))
    service.imap.deliver(incoming("bob@b.org", "JOIN"))
    assert "2 seen, 2 handled" in service.tick().output
    assert [r.subject for r in records(service)] == ["JOIN b", "JOIN"]
    assert confirmations_to(service, "bob@b.org") == 1


def quoted_printable_to(token_address: str, subject: str, body: bytes, sender: str = f"Sam <{SAM}>") -> bytes:
    head = incoming(sender, subject, to=token_address).split(b"\r\n\r\n")[0]
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(b"Content-"))
    mime = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    return head + b"\r\n" + mime + b"\r\n" + body


def test_values_from_a_body_are_stored_cleaned_and_bounded(service: Service) -> None:
    """NUL (here from quoted-printable, which Dovecot passes on as it is) reaches every kind of column
    filled from a body: a share, a profile field, a NOT MET reason, a command kept until it is confirmed;
    and a name from the From header."""
    token = sam_and_kim_introduced(service)
    group = f"coffee+{token}@example.org"
    service.imap.deliver(quoted_printable_to(PERSONAL, "SHARE", b"We=00 learned " + b"a lot " * 1000))
    service.imap.deliver(quoted_printable_to(PERSONAL, "PROFILE", b"Bio: tea=00 and =1B[31mcake\r\nPhone: " +
                                             b"9" * 500))
    service.imap.deliver(quoted_printable_to(group, "NOT MET", b"Kim=00 was away"))
    service.imap.deliver(incoming("Ann Lee <ann@a.org>", "JOIN").replace(b"Ann Lee", b"=?utf-8?q?Ann=00Lee?="))
    service.imap.deliver(quoted_printable_to("coffee@example.org", "PROFILE", b"Bio: =00" + b"b" * 300_000))
    assert "5 seen, 5 handled" in service.tick().output
    with service.session() as s:
        shared = s.scalar(select(Share.text))
        sam = s.scalar(select(Participant).where(Participant.email == SAM))
        reason = s.scalar(select(Outcome.reason))
        ann = s.scalar(select(Participant.name).where(Participant.email == "ann@a.org"))
        kept = s.scalar(select(Token.payload).where(Token.purpose == Purpose.COMMAND))
    assert kept is not None and "Bio: \\u0000bbb" in kept and len(kept) < 50_000
    assert shared is not None and shared.startswith("We  learned a lot") and len(shared) <= 2000
    assert sam is not None and sam.bio == "tea and [31mcake" and sam.phone == "9" * 60
    assert reason == "Kim was away" and ann == "Ann Lee"


@pytest.mark.parametrize("value", ["a\x00b", "bad \udcff byte", "\x1b[2J" + "x" * 5000])
def test_any_string_can_be_stored_and_found_again(service: Service, value: str) -> None:
    """Lone surrogates (left by Python's email package for bytes it could not decode) are refused by
    both databases; NUL and over-long values by PostgreSQL. Stored cleaned, and a lookup by the same
    value finds the row."""
    with service.session() as s, s.begin():
        s.add(InboundMessage(message_id=value, folder="INBOX", uidvalidity=1, uid=1, sender=value, subject=value,
                             disposition=Disposition.QUARANTINED, reason=value))
    with service.session() as s:
        found = s.scalar(select(InboundMessage).where(InboundMessage.message_id == value))
    assert found is not None and found.subject == storable(value, 2000) and found.subject.isprintable()
    assert len(found.message_id) <= 998 and len(found.sender) <= 320


def test_storable_cleans_only_what_cannot_be_stored() -> None:
    assert storable("Zoë O'Brien <zoe@x.org>", 320) == "Zoë O'Brien <zoe@x.org>"
    assert storable("a\x00b\tc\x85d\udcffe", 20) == "a b c d\ufffde"
    assert storable("one\r\ntwo\rthree\x00\tfour", 40, lines=True) == "one\ntwo\nthree \tfour"
    assert storable("x" * 10, 4) == "xxxx"


def refuse_inbound_rows(service: Service, condition: str) -> None:
    """Make the database itself refuse some inbound_messages rows, as it would a value it cannot store."""
    if service.engine.dialect.name == "postgresql":
        statements = [
            "CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            f"CREATE TRIGGER refuse BEFORE INSERT ON inbound_messages FOR EACH ROW WHEN ({condition}) "
            "EXECUTE FUNCTION refuse_row()",
        ]
    else:
        statements = [f"CREATE TRIGGER refuse BEFORE INSERT ON inbound_messages WHEN {condition} "
                      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"]
    with service.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def accept_inbound_rows(service: Service) -> None:
    on = " ON inbound_messages" if service.engine.dialect.name == "postgresql" else ""
    with service.engine.begin() as connection:
        connection.execute(text(f"DROP TRIGGER refuse{on}"))


def test_a_message_that_cannot_be_recorded_is_quarantined_with_a_minimal_row(service: Service) -> None:
    refuse_inbound_rows(service, "NEW.uid = 1 AND NEW.sender <> ''")
    service.imap.deliver(incoming("ann@a.org", "JOIN", message_id="<refused@a.org>"))
    service.imap.deliver(incoming("bob@b.org", "JOIN"))
    assert "2 seen, 1 handled, 1 quarantined" in service.tick().output
    assert len(service.imap.fetch_all(QUARANTINE)) == 1 and service.imap.fetch_all() == []
    ann, bob = records(service)
    assert (ann.disposition, ann.sender, ann.subject) == (Disposition.QUARANTINED, "", "")
    assert ann.message_id.startswith("sha256:") and "could not be recorded in full" in ann.reason
    assert confirmations_to(service, "ann@a.org") == 0 and confirmations_to(service, "bob@b.org") == 1
    assert bob.disposition == Disposition.PROCESSED
    assert '"quarantined": 1' in service.cli("status", "--json").output


def test_a_message_not_even_quarantine_can_record_stays_in_the_inbox_and_the_run_goes_on(service: Service) -> None:
    refuse_inbound_rows(service, "NEW.uid = 1")
    service.imap.deliver(incoming("ann@a.org", "JOIN", message_id="<refused@a.org>"))
    service.imap.deliver(incoming("bob@b.org", "JOIN"))
    for counts in ("2 seen, 1 handled, 0 quarantined", "1 seen, 0 handled, 0 quarantined"):
        out = service.tick().output
        assert counts in out
        assert "uid 1: not even quarantine could record it (" in out and "move it out of the inbox by hand" in out
        assert len(service.imap.fetch_all()) == 1 and [r.uid for r in records(service)] == [2]
    assert confirmations_to(service, "bob@b.org") == 1 and confirmations_to(service, "ann@a.org") == 0
    accept_inbound_rows(service)
    out = service.tick().output
    assert "1 seen, 1 handled" in out and "left in the inbox" not in out
    assert service.imap.fetch_all() == [] and confirmations_to(service, "ann@a.org") == 1


# Generated hostile mail. Dovecot stores a raw NUL byte as 0x80, so NULs come in encoded: in
# encoded words, quoted-printable and base64, as they do from real senders.
CHUNKS = st.sampled_from([
    b"=00", b"=?utf-8?q?a=00b?=", b"=?utf-8?b?AAAA?=", b"=?x-unknown?q?=FF?=", b"=?utf-16?b?2ADcAA==?=", b"=?utf-8?q?",
    b"\xff\xfe", b"\xed\xa0\x80", b"\xc3(", b"\x1b[2J", b"\x01", b"&#0;", b"&#xD800;", b"=ED=A0=80", b"<", b">", b"@",
    b"\t", b" ", b"\r\n", b"\r\n ", b"=\r\n", b"word", b"MET", b"Name: ", b"--b", b"Content-Type: text/plain\r\n\r\n",
])
SENDERS = st.sampled_from([b"Sam <" + SAM.encode() + b">", SAM.encode(), b"=?utf-8?q?Sam=00?= <" + SAM.encode() + b">",
                           b"=?utf-8?q?N=00?= <x@y.org>", b"\xff@\xfe", b"<>", b""])
RECIPIENTS = st.sampled_from([PERSONAL.encode(), b"coffee@example.org", b"coffee+\x01@example.org"])
COMMANDS = st.sampled_from([b"", b"SHARE ", b"NOT MET ", b"PROFILE\r\nBio: ", b"PROFILE\r\nName: ", b"JOIN ", b"HELP"])
NAMES = st.sampled_from([b"Message-ID", b"Subject", b"From", b"To", b"Cc", b"References", b"In-Reply-To",
                         b"Content-Type", b"Content-Transfer-Encoding", b"Authentication-Results", b"X-\xff"])
CONTENT_TYPES = st.sampled_from([b"text/plain; charset=utf-8", b"text/html", b"text/plain; charset=x-bogus",
                                 b"text/plain; charset=\xff", b"text/plain; format=flowed; delsp=yes",
                                 b"message/rfc822", b"application/octet-stream"])
ENCODINGS = st.sampled_from([b"quoted-printable", b"quoted-printable", b"base64", b"", b"8bit", b"x-garbage"])


@st.composite
def hostile_text(draw: st.DrawFn) -> bytes:
    """Bytes built from pieces that break parsers, sometimes repeated to an absurd length."""
    value = b"".join(draw(st.lists(st.one_of(CHUNKS, st.binary(max_size=30)), max_size=10)))
    return value * draw(st.sampled_from([1, 1, 1, 1, 40, 3000]))


@st.composite
def part(draw: st.DrawFn, depth: int = 0) -> bytes:
    """One MIME part: a command and hostile text in some encoding, or a multipart (up to 12 deep, its
    boundary sometimes wrong or missing)."""
    if depth < 12 and draw(st.integers(0, 4)) == 0:
        boundary = draw(st.sampled_from([b"b", b"b", b"", b"\xff", b"x" * 80]))
        children = draw(st.lists(part(depth + 1), min_size=0, max_size=2 if depth < 2 else 1))
        declared = boundary if draw(st.integers(0, 3)) else b"other"
        body = b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child in children)
        body += b"--" + boundary + b"--\r\n"
        return b"Content-Type: multipart/mixed; boundary=\"" + declared + b"\"\r\n\r\n" + body
    encoding = draw(ENCODINGS)
    payload = draw(COMMANDS) + draw(hostile_text())
    if encoding == b"base64" and draw(st.booleans()):
        payload = base64.encodebytes(payload)
    head = b"Content-Type: " + draw(CONTENT_TYPES) + b"\r\n"
    return head + (b"Content-Transfer-Encoding: " + encoding + b"\r\n" if encoding else b"") + b"\r\n" + payload


@st.composite
def encoded_word(draw: st.DrawFn) -> bytes:
    """A well-formed RFC 2047 word whose text holds NUL, other control characters, or anything else."""
    words = draw(st.text(st.characters(codec="utf-8"), max_size=20)) * draw(st.sampled_from([1, 1, 200]))
    data = words.encode()
    if draw(st.booleans()):
        return b"=?utf-8?b?" + base64.b64encode(data) + b"?="
    return b"=?utf-8?q?" + b"".join(b"=%02X" % c for c in data) + b"?="


def header_value() -> st.SearchStrategy[bytes]:
    long_id = st.integers(900, 5000).map(lambda n: b"<" + b"a" * n + b"@example.net>")
    return st.one_of(hostile_text(), encoded_word(), long_id)


@st.composite
def hostile_message(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Header lines and the rest (MIME headers and body), apart, so a test can add a Message-ID after the
    generated ones. Often from Sam in his own thread, so commands reach his profile, shares and reports."""
    subject = draw(st.one_of(st.sampled_from([b"SHARE", b"NOT MET", b"Re: PROFILE", b"x"]), header_value()))
    sender = draw(st.one_of(SENDERS, encoded_word().map(lambda name: name + b" <" + SAM.encode() + b">")))
    headers = [b"From: " + sender, b"To: " + draw(RECIPIENTS), b"Subject: " + subject]
    headers += [name + b": " + draw(header_value()) for name in draw(st.lists(NAMES, max_size=4))]
    return b"\r\n".join(headers), draw(part())


@pytest.fixture
def introduced(service: Service) -> str:
    return sam_and_kim_introduced(service)


@settings(derandomize=True, max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generated=st.lists(hostile_message(), min_size=1, max_size=4))
def test_hostile_mail_never_stops_a_run(service: Service, imap_server: Dovecot, introduced: str,
                                        generated: list[tuple[bytes, bytes]]) -> None:
    """Every run completes; every message is filed (processed or quarantined) or reported as left in the
    inbox, none set aside as a fault of ours; a good JOIN and a good MET delivered after the hostile mail
    are applied. Each example reads a
    mailbox of its own; the database is shared, as it is between real runs."""
    n = next(EXAMPLES)
    service.imap = imap_server.account()
    service.set("imap", "user", service.imap.user)
    batch = [head + f"\r\nMessage-ID: <{n}.{i}@gen.example>\r\n".encode() + rest
             for i, (head, rest) in enumerate(generated)]
    joiner, met_id = f"joiner{n}@good.example", f"<met{n}@leeds.gov.uk>"
    with service.imap.client() as imap:
        imap.multiappend("INBOX", [*batch, incoming(joiner, "JOIN"), incoming(
            f"Sam <{SAM}>", "MET", to=f"coffee+{introduced}@example.org", message_id=met_id)])
    out = service.tick().output
    left = service.imap.fetch_all()
    filed = len(service.imap.fetch_all(PROCESSED)) + len(service.imap.fetch_all(QUARANTINE))
    assert f"inbox: {len(batch) + 2} seen" in out and filed + len(left) == len(batch) + 2
    assert out.count("left in the inbox") == len(left)
    with service.session() as s:
        met = s.scalar(select(InboundMessage).where(InboundMessage.message_id == met_id))
        assert met is not None and met.action == "met"
        assert s.scalar(select(func.count()).where(Outcome.inbound_id == met.id, Outcome.met.is_(True))) == 1
        assert s.scalar(select(Participant.status).where(Participant.email == joiner)) == Status.PENDING
        assert s.scalars(select(InboundMessage.reason).where(InboundMessage.reason.contains("a fault in"))).all() == []
    assert confirmations_to(service, joiner) == 1


EXAMPLES: Iterator[int] = itertools.count()
