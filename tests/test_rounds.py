"""Rounds end to end over real IMAP/SMTP and both databases, with the clock under the test's control."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from itertools import combinations

from sqlalchemy import select

from models import InboundMessage, Match, OutboundMessage, Outcome, Participant, Round, SitOut, Status
from models.db import sessions
from mailer.send import deliver_due
from rounds.lifecycle import run_due
from tests.app import Service
from tests.harness.smtpsink import CapturedMessage
from tests.mail import incoming, reply_to
from tick import tick

ORGS = ["leeds.gov.uk", "nhs.net", "cabinetoffice.gov.uk"]
PEOPLE = [f"Person {i} <p{i}@{ORGS[i % 3]}>" for i in range(9)]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


def run(service: Service, when: datetime) -> list[str]:
    report = tick(service.engine, service.settings, now=lambda: when)
    assert report.errors == []
    return report.rounds


def join_everyone(service: Service, when: datetime) -> None:
    for person in PEOPLE:
        service.imap.deliver(incoming(person, "JOIN"))
    run(service, when)
    for captured in service.smtp.wait_for(len(PEOPLE)):
        sender = next(p for p in PEOPLE if p.split("<")[1][:-1] == captured.rcpt_tos[0])
        service.imap.deliver(reply_to(captured.message, sender, "CONFIRM"))
    run(service, when)
    service.smtp.wait_for(2 * len(PEOPLE))
    service.smtp.clear()


def one_each(captured: list[CapturedMessage]) -> list[EmailMessage]:
    """One copy of each email: every member of a group gets a copy of their own, with the same Message-ID."""
    return list({c.message["Message-ID"]: c.message for c in captured}.values())


def groups_of(messages: list[EmailMessage]) -> list[frozenset[str]]:
    return [frozenset(a.addr_spec for a in m["To"].addresses) for m in messages]


def reply_all(intro: EmailMessage, sender: str, text: str) -> bytes:
    raw = reply_to(intro, sender, text)
    to = ", ".join(str(a) for a in intro["Reply-To"].addresses)
    return raw.replace(f"To: {intro['Reply-To'].addresses[0].addr_spec}".encode(), f"To: {to}".encode(), 1)


def test_a_round_from_introductions_to_the_next_draw(service: Service) -> None:
    join_everyone(service, at("2026-11-23T12:00"))
    assert run(service, at("2026-11-30T12:00")) == [], "nothing before the first working day of December"

    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 4 groups"]
    intros = one_each(service.smtp.wait_for(9))
    groups = groups_of(intros)
    assert sorted(len(g) for g in groups) == [2, 2, 2, 3]
    assert sorted(a for g in groups for a in g) == sorted(p.split("<")[1][:-1] for p in PEOPLE)
    assert all("reply to all" in m.get_body(("plain",)).get_content() for m in intros)

    met_intro, not_met_intro, *silent = intros
    service.imap.deliver(reply_all(met_intro, _member(met_intro), "MET - lovely chat"))
    service.imap.deliver(reply_all(not_met_intro, _member(not_met_intro), "NOT MET - we were both on leave"))
    service.imap.deliver(reply_all(silent[0], _member(silent[0]), "Does Tuesday at 3 work for you?"))
    run(service, at("2026-12-02T10:00"))
    thanks = service.smtp.wait_for(11)[9:]
    assert {t.message["Subject"] for t in thanks} == {f"Re: {m['Subject']}" for m in (met_intro, not_met_intro)}, \
        "an acknowledgement in a group's thread keeps its subject"
    assert all(t.message.get_body(("plain",)).get_content().split("\n")[2].startswith("Thanks ") for t in thanks)
    service.smtp.clear()
    with service.session() as s:
        outcomes = s.scalars(select(Outcome).order_by(Outcome.id)).all()
        assert [(o.met, o.reason, o.reason_group) for o in outcomes] == [
            (True, "", ""), (False, "we were both on leave", "away")]

    assert run(service, at("2026-12-17T10:00")) == [], "halfway is Friday the 18th (round 2 opens 4 January)"
    assert run(service, at("2026-12-18T09:05")) == ["round 1: nudged 2 groups"]
    copies = sum(len(g) for g in groups_of(silent))
    nudges = one_each(service.smtp.wait_for(copies))
    assert set(groups_of(nudges)) == set(groups_of(silent))
    assert all(n["In-Reply-To"] in {i["Message-ID"] for i in silent} for n in nudges)
    assert run(service, at("2026-12-18T10:10")) == [] and len(service.smtp.messages) == copies

    assert run(service, at("2026-12-28T10:00")) == [], "four fifths is the 28th, a bank holiday"
    assert run(service, at("2026-12-29T09:05")) == ["round 1: checked in with 2 groups"]
    checkins = one_each(service.smtp.wait_for(2 * copies)[copies:])
    assert set(groups_of(checkins)) == set(groups_of(silent))
    service.smtp.clear()

    assert run(service, at("2027-01-01T10:00")) == [], "New Year's Day"
    assert run(service, at("2027-01-04T10:00")) == ["round 2 opened: 4 groups",
                                                    "round 1: digest queued for organiser@example.org"]
    second = groups_of(one_each([c for c in service.smtp.wait_for(10) if c.rcpt_tos != ["organiser@example.org"]]))
    first_pairs = {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}
    assert not first_pairs & {frozenset(p) for g in second for p in combinations(sorted(g), 2)}
    with service.session() as s:
        extras = s.scalars(select(Match.odd_one_id).where(Match.odd_one_id.is_not(None))).all()
        assert len(extras) == 2 and extras[0] != extras[1], "the trio's extra place rotates"
        assert s.scalar(select(Round).where(Round.number == 1)).closed_at is not None
    assert run(service, at("2027-01-04T10:05")) == []


def _member(intro: EmailMessage) -> str:
    address = intro["To"].addresses[0]
    return f"{address.display_name} <{address.addr_spec}>"


def add_people(service: Service, n: int) -> list[int]:
    with service.session() as s, s.begin():
        people = [Participant(email=f"q{i}@org{i % 4}.example", name=f"Q{i}", status=Status.ACTIVE,
                              reply_token=f"tq{i:04d}", confirmed_at=at("2026-11-02T10:00")) for i in range(n)]
        s.add_all(people)
        s.flush()
        return [p.id for p in people]


def test_odd_numbers_can_sit_one_out_and_they_are_told(service: Service) -> None:
    service.set("rounds", "odd", "sit_out")
    add_people(service, 5)
    Session_ = sessions(service.engine)
    assert run_due(Session_, service.settings, at("2026-12-01T10:00")) == ["round 1 opened: 2 groups"]
    with service.session() as s:
        sitter = s.scalar(select(SitOut))
        assert sitter is not None and sitter.reason == "odd"
        email = s.get_one(Participant, sitter.participant_id).email
    deliver_due(Session_, service.settings.smtp, now=lambda: at("2026-12-01T10:00"))
    notice = next(c.message for c in service.smtp.wait_for(3) if c.rcpt_tos == [email])
    assert "odd number" in notice.get_body(("plain",)).get_content()
    run_due(Session_, service.settings, at("2027-01-04T10:00"))
    with service.session() as s:
        second = s.scalars(select(SitOut).join(Round).where(Round.number == 2)).all()
        assert [x.participant_id for x in second] != [sitter.participant_id]


def test_silent_people_are_asked_then_paused(service: Service) -> None:
    ids = add_people(service, 4)
    Session_ = sessions(service.engine)
    for month in ("2026-12-01", "2027-01-04", "2027-02-01", "2027-03-01"):
        run_due(Session_, service.settings, at(f"{month}T10:00"))
    with service.session() as s:
        kinds = [(o.kind, o.recipients) for o in s.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]
        asked = sorted(r for k, r in kinds if k == "still_in")
        paused = sorted(r for k, r in kinds if k == "paused_silent")
        statuses = {p.status for p in s.scalars(select(Participant).where(Participant.id.in_(ids)))}
    assert len(asked) == 4 and paused == asked and statuses == {Status.PAUSED}


def test_a_reply_keeps_a_silent_person_in(service: Service) -> None:
    ids = add_people(service, 2)
    Session_ = sessions(service.engine)
    for month in ("2026-12-01", "2027-01-04", "2027-02-01"):
        run_due(Session_, service.settings, at(f"{month}T10:00"))
    with service.session() as s, s.begin():
        person = s.get_one(Participant, ids[0])
        s.add(InboundMessage(message_id="<yes@q>", folder="INBOX", uidvalidity=1, uid=1, sender=person.email,
                             received_at=at("2027-02-03T10:00"), disposition="processed", action="still-in",
                             participant_id=person.id))
    run_due(Session_, service.settings, at("2027-03-01T10:00"))
    with service.session() as s:
        assert s.get_one(Participant, ids[0]).status == Status.ACTIVE
        assert s.get_one(Participant, ids[1]).status == Status.PAUSED, "their silent partner is paused"



def test_a_participant_we_cannot_write_to_stops_the_round_but_not_the_mail(service: Service) -> None:
    """Someone with an internationalised address from before such mail was quarantined (or put in
    by hand): the round cannot be introduced, so it waits, named and explained, while the emails
    already queued still go; removing that person lets the next run open it."""
    join_everyone(service, at("2026-11-23T12:00"))
    with service.session() as s, s.begin():
        s.add(Participant(email="zoë@exämple.org", name="Zoë", status=Status.ACTIVE, reply_token="tzoe"))
    service.imap.deliver(incoming("Late Person <late@example.net>", "JOIN"))
    report = tick(service.engine, service.settings, now=lambda: at("2026-12-01T10:00"))
    assert report.rounds == [] and len(report.errors) == 1
    assert "zoë@exämple.org" in report.errors[0] and "participants remove" in report.errors[0]
    assert [c.rcpt_tos for c in service.smtp.wait_for(1)] == [["late@example.net"]]
    with service.session() as s:
        assert s.scalar(select(Round)) is None
    assert "zoë@exämple.org is now left" in service.cli("participants", "remove", "zoë@exämple.org").output
    assert run(service, at("2026-12-01T10:05")) == ["round 1 opened: 4 groups"]


def test_an_organisers_broken_intro_template_is_reported_and_the_round_waits(service: Service) -> None:
    join_everyone(service, at("2026-11-23T12:00"))
    folder = service.path.parent / "my-templates" / "group"
    folder.mkdir(parents=True)
    (folder / "intro.j2").write_text("{% block subject %}Meet {{ nobody_defined }}{% endblock %}\n{% block body %}Hi{% endblock %}\n")
    service.set("service", "templates_dir", "my-templates")
    report = tick(service.engine, service.settings, now=lambda: at("2026-12-01T10:00"))
    assert report.rounds == [] and "nobody_defined" in report.errors[0] and "next run tries again" in report.errors[0]
    (folder / "intro.j2").unlink()
    assert run(service, at("2026-12-01T10:05")) == ["round 1 opened: 4 groups"]


def test_a_trio_members_late_report_lands_on_their_old_group(service: Service) -> None:
    """The third member of a trio answers weeks later, after the next round opened: the outcome is
    their first group's, not the group they are in now."""
    add_people(service, 5)
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 2 groups"]
    trio = next(c.message for c in service.smtp.wait_for(5) if len(c.message["To"].addresses) == 3)
    third = trio["To"].addresses[2]
    assert "round 2 opened: 2 groups" in run(service, at("2027-01-04T10:00"))
    service.imap.deliver(reply_all(trio, f"{third.display_name} <{third.addr_spec}>", "We've met! Sorry it took a while"))
    run(service, at("2027-01-20T10:00"))
    with service.session() as s:
        outcome = s.scalar(select(Outcome))
        assert outcome is not None and outcome.met
        reporter = s.get_one(Participant, outcome.participant_id)
        match = s.get_one(Match, outcome.match_id)
        assert reporter.email == third.addr_spec
        assert s.get_one(Round, match.round_id).number == 1 and match.token in trio["Reply-To"].addresses[0].addr_spec


def test_a_pause_until_a_date_ends_by_itself(service: Service) -> None:
    ids = add_people(service, 4)
    with service.session() as s, s.begin():
        person = s.get_one(Participant, ids[0])
        person.status, person.paused_until = Status.PAUSED, at("2027-01-02T00:00")
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 1 group"]
    assert ids[0] not in _placed(service, 1)
    assert "round 2 opened: 2 groups" in run(service, at("2027-01-04T10:00"))
    assert ids[0] in _placed(service, 2)
    with service.session() as s:
        person = s.get_one(Participant, ids[0])
        assert (person.status, person.paused_until) == (Status.ACTIVE, None)


def _placed(service: Service, number: int) -> set[int]:
    with service.session() as s:
        rnd = s.scalar(select(Round).where(Round.number == number))
        assert rnd is not None
        return {m.participant_id for match in rnd.matches for m in match.members}
