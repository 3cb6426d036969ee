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

from models import Disposition, InboundMessage, Outcome, Participant, Share, Status
from models.bounded import storable
from tests.app import Service
from tests.harness.dovecot import Dovecot
from tests.mail import incoming
from tests.test_commands import PERSONAL, SAM, add_sam, sam_and_kim_introduced

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
    service.imap.deliver(service.imap.fetch_all(PROCESSED)[0])
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
    return head + b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + body


def test_values_from_a_body_are_stored_cleaned_and_bounded(service: Service) -> None:
    """NUL (here from quoted-printable, which Dovecot passes on as it is) reaches every kind of column
    filled from a body: a share, a profile field, a NOT MET reason; and a name from the From header."""
    token = sam_and_kim_introduced(service)
    group = f"coffee+{token}@example.org"
    service.imap.deliver(quoted_printable_to(PERSONAL, "SHARE", b"We=00 learned " + b"a lot " * 1000))
    service.imap.deliver(quoted_printable_to(PERSONAL, "PROFILE", b"Bio: tea=00 and =1B[31mcake\r\nPhone: " +
                                             b"9" * 500))
    service.imap.deliver(quoted_printable_to(group, "NOT MET", b"Kim=00 was away"))
    service.imap.deliver(incoming("Ann Lee <ann@a.org>", "JOIN").replace(b"Ann Lee", b"=?utf-8?q?Ann=00Lee?="))
    assert "4 seen, 4 handled" in service.tick().output
    with service.session() as s:
        shared = s.scalar(select(Share.text))
        sam = s.scalar(select(Participant).where(Participant.email == SAM))
        reason = s.scalar(select(Outcome.reason))
        ann = s.scalar(select(Participant.name).where(Participant.email == "ann@a.org"))
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
    for _ in range(2):
        out = service.tick().output
        assert "2 seen, 1 handled, 0 quarantined" in out or "1 seen, 0 handled, 0 quarantined" in out
        assert "uid 1: not even quarantine could record it (" in out and "move it out of the inbox by hand" in out
        assert len(service.imap.fetch_all()) == 1 and [r.uid for r in records(service)] == [2]
    assert confirmations_to(service, "bob@b.org") == 1 and confirmations_to(service, "ann@a.org") == 0
    accept_inbound_rows(service)
    out = service.tick().output
    assert "1 seen, 1 handled" in out and "left in the inbox" not in out
    assert service.imap.fetch_all() == [] and confirmations_to(service, "ann@a.org") == 1
