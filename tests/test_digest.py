"""The organiser's digest: queued by tick when a round closes, once, with the report attached."""
from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import select

from models import OutboundMessage, Participant, Status
from tests.app import Service
from tests.mail import reply_to
from tests.test_rounds import at, run

ORGANISER = "organiser@example.org"


def add_people(service: Service, n: int) -> None:
    with service.session() as s, s.begin():
        s.add_all(Participant(email=f"p{i}@org{i % 3}.example", name=f"Person Number{i}", status=Status.ACTIVE,
                              organisation=f"Org {i % 3}", reply_token=f"tp{i:04d}",
                              confirmed_at=at("2026-11-02T10:00")) for i in range(n))


def member(intro: EmailMessage) -> str:
    address = intro["To"].addresses[0]
    return f"{address.display_name} <{address.addr_spec}>"


def to_organiser(service: Service) -> list[EmailMessage]:
    return [c.message for c in service.smtp.messages if c.rcpt_tos == [ORGANISER]]


def dead_links(page: str) -> list[str]:
    """Links in a page read on its own: each must be an #anchor it has, or a web link (what people shared)."""
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    return [href for href in re.findall(r'href="([^"]*)"', page)
            if not (href[1:] in ids if href.startswith("#") else href.startswith(("https://", "http://")))]


def test_the_organiser_hears_how_the_round_went_once(service: Service) -> None:
    add_people(service, 6)
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 3 groups"]
    copies = [c.message for c in service.smtp.wait_for(6)]
    met, not_met, _silent = {m["Message-ID"]: m for m in copies}.values()  # one copy of each group's email
    service.imap.deliver(reply_to(met, member(met), "MET - great chat"))
    service.imap.deliver(reply_to(not_met, member(not_met), "NOT MET - too busy this month"))
    run(service, at("2026-12-03T10:00"))
    service.smtp.wait_for(8)
    service.smtp.clear()

    notes = run(service, at("2027-01-04T10:00"))
    assert notes[-1] == f"round 1: digest queued for {ORGANISER}"
    service.smtp.wait_for(7)
    [digest] = to_organiser(service)
    assert digest["Subject"] == "Coffee Roulette: round 1 — 1 of 3 groups met"
    text = digest.get_body(("plain",)).get_content()
    assert "- Did not meet: 1 (busy: 1)" in text and "- No reply: 1" in text
    assert "Round 2 opened today with 3 groups." in text
    [report] = list(digest.iter_attachments())
    assert report.get_filename() == "network-report-round-1.html"
    page = report.get_content()
    assert "<svg" in page and "Person Number" not in page and "@org" not in page, "publishable: no names"
    assert dead_links(page) == [], "the page travels alone: no links to files left behind"
    assert "open/groups.csv" in page and "unmentoring report" in page, "it names the files and how to get them"

    run(service, at("2027-01-04T10:30"))
    run(service, at("2027-01-05T10:00"))
    with service.session() as s:
        kinds = s.scalars(select(OutboundMessage.kind).where(OutboundMessage.recipients == ORGANISER)).all()
    assert kinds == ["digest"], "one digest per round however often tick runs"


def test_no_digest_when_switched_off_nor_a_backlog_when_switched_on(service: Service) -> None:
    service.set("service", "digest", False)
    add_people(service, 4)
    run(service, at("2026-12-01T10:00"))
    assert "round 2 opened: 2 groups" in run(service, at("2027-01-04T10:00"))
    service.set("service", "digest", True)
    notes = run(service, at("2027-01-20T10:00"))
    assert not [n for n in notes if "digest" in n], "round 1 closed too long ago to report now"
    assert run(service, at("2027-02-01T10:00"))[-1] == f"round 2: digest queued for {ORGANISER}"
    with service.session() as s:
        keys = s.scalars(select(OutboundMessage.dedupe_key).where(OutboundMessage.kind == "digest")).all()
    assert len(keys) == 1
