"""Mail from the organiser's address is the organiser's: never answered with the participants' help;
STATUS and REPORT answered by email when trusted; anything else filed quietly (both databases)."""
from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from models import InboundMessage
from tests.app import Service
from tests.mail import incoming, reply_to
from tests.test_digest import ORGANISER, add_people, to_organiser
from tests.test_rounds import at, run

ROUND_CLOSED = at("2027-01-04T10:00")


def digest_of_round_one(service: Service) -> EmailMessage:
    add_people(service, 4)
    run(service, at("2026-12-01T10:00"))
    service.smtp.wait_for(2)
    service.smtp.clear()
    run(service, ROUND_CLOSED)
    service.smtp.wait_for(3)
    [digest] = to_organiser(service)
    service.smtp.clear()
    return digest


def answer(service: Service, raw: bytes, when=ROUND_CLOSED) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    service.imap.deliver(raw)
    run(service, when)
    return to_organiser(service)


def decisions(service: Service) -> list[tuple[str, str]]:
    with service.session() as s:
        return [(r.action, r.reason) for r in s.scalars(select(InboundMessage).order_by(InboundMessage.id))]


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()


def test_thanks_for_the_digest_is_filed_not_answered_with_the_participants_help(service: Service) -> None:
    digest = digest_of_round_one(service)
    assert answer(service, reply_to(digest, f"The Organiser <{ORGANISER}>", "Thanks - great to see!")) == []
    assert service.smtp.messages == []
    assert decisions(service)[-1] == ("organiser", "from the organiser: filed, not answered")


def test_status_in_reply_to_the_digest_gets_the_figures_of_unmentoring_status(service: Service) -> None:
    digest = digest_of_round_one(service)
    [status] = answer(service, reply_to(digest, ORGANISER.upper(), "STATUS"))
    assert status["Subject"] == "Coffee Roulette: status" and status["In-Reply-To"]
    service.travel(ROUND_CLOSED)
    printed = service.cli("status").output.splitlines()
    body = text_of(status)
    assert "participants: 4 active" in body and "next: round 2: nudge groups that have not reported" in body
    assert all(line in body for line in printed if not line.startswith("answers to people")), body
    assert decisions(service)[-1][0] == "organiser-status"


def test_report_in_reply_to_the_digest_gets_the_page(service: Service) -> None:
    digest = digest_of_round_one(service)
    [report] = answer(service, reply_to(digest, ORGANISER, "Report please"))
    [page] = list(report.iter_attachments())
    assert page.get_filename() == "network-report-2027-01-04.html" and "<svg" in page.get_content()
    assert report["Subject"] == "Coffee Roulette: network report (2 rounds, 4 people)"


def test_a_status_that_proves_nothing_gets_the_organisers_help_once_and_a_reply_to_it_works(service: Service) -> None:
    add_people(service, 2)
    when = at("2026-11-20T10:00")
    [help_] = answer(service, incoming(ORGANISER, "STATUS"), when)
    assert help_["Subject"] == "Coffee Roulette: commands for the organiser"
    assert "We got your STATUS, but could not tell that it came from you" in text_of(help_)
    assert "MET or NOT MET" not in text_of(help_), "not the participants' help"
    service.smtp.clear()
    assert answer(service, incoming(ORGANISER, "STATUS"), when) == [], "the organiser's help once a day"
    [status] = answer(service, reply_to(help_, ORGANISER, "status"), when)
    assert "participants: 2 active" in text_of(status)


def test_dkim_from_our_server_makes_a_fresh_status_trusted(service: Service) -> None:
    service.set("service", "trusted_authserv_id", "mx.example.org")
    results = "mx.example.org; dkim=pass header.d=example.org; dmarc=pass header.from=example.org"
    [status] = answer(service, incoming(ORGANISER, "Status", headers={"Authentication-Results": results}),
                      at("2026-11-20T10:00"))
    assert status["Subject"] == "Coffee Roulette: status"
    forged = results.replace("mx.example.org", "mx.evil.example")
    service.smtp.clear()
    [help_] = answer(service, incoming(ORGANISER, "REPORT", headers={"Authentication-Results": forged}),
                     at("2026-11-21T10:00"))
    assert help_["Subject"] == "Coffee Roulette: commands for the organiser"


def test_participant_commands_from_the_organisers_address_are_not_run(service: Service) -> None:
    assert answer(service, incoming(ORGANISER, "JOIN"), at("2026-11-20T10:00")) == []
    assert decisions(service)[-1] == ("organiser", "from the organiser: filed, not answered")
