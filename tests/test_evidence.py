"""What helps people meet: the report's comparisons (booked or not, mode, size, host, first round) and the digest's two lines."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st
from sqlalchemy import select

from models import Match, MatchMember
from report.data import Group, History, Meeting, Person, RoundInfo, meeting_mode
from report.evidence import booking_lines, evidence, wilson
from tests.app import Service
from tests.mail import reply_to
from tests.test_digest import add_people, member, to_organiser
from tests.test_rounds import at, run

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


def test_wilson_interval_matches_the_published_values() -> None:
    low, high = wilson(3, 4)
    assert (round(low, 3), round(high, 3)) == (0.301, 0.954), "3 of 4: about 30 % to 95 %"
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 3) == 0.278
    assert wilson(0, 0) == (0.0, 1.0), "no groups: nothing is known"


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_rate_and_narrows_with_more_groups(case: tuple[int, int]) -> None:
    met, n = case
    low, high = wilson(met, n)
    assert 0.0 <= low <= met / n <= high <= 1.0
    more_low, more_high = wilson(met * 4, n * 4)
    assert more_high - more_low < high - low


def person(pid: int) -> Person:
    return Person(pid, f"p{pid:04d}", "", f"n{pid}@x.example", "a" if pid % 2 else "b", "", "active", "", T0,
                  None, False)


def history() -> History:
    booked = Meeting(True, "times offered", "online", 3.0)
    unbooked = Meeting(False, "times offered", "online", None)
    groups = [Group(1, 1, (1, 2), None, "met", "", booked), Group(2, 1, (3, 4), None, "met", "", booked),
              Group(3, 1, (5, 6), None, "not met", "busy", unbooked),
              Group(4, 1, (7, 8), None, "no report", "", unbooked),
              Group(5, 2, (1, 3), None, "met", "", unbooked),
              Group(6, 2, (9, 10), None, "met", "", booked)]
    rounds = [RoundInfo(1, 1, T0, T0 + timedelta(days=30)), RoundInfo(2, 2, T0 + timedelta(days=30), None)]
    return History({i: person(i) for i in range(1, 11)}, rounds, groups, [], [], [], [])


def test_facets_compare_closed_rounds_only_and_count_silence_as_not_met() -> None:
    facets = {f.title: {p.label: p for p in f.parts} for f in evidence(history())}
    booked = facets["Booked a time"]
    assert (booked["booked"].groups, booked["booked"].met) == (2, 2), "round 2 is still open: not counted"
    assert (booked["did not book"].groups, booked["did not book"].met) == (2, 0)
    assert booked["did not book"].reasons == (("busy", 1),)
    host = facets["How soon the host answered"]
    assert host["host wrote within a day"].groups == 2 and host["host did not write"].groups == 2
    assert "Meeting mode" not in facets, "every group was online: nothing to compare"
    assert booking_lines(evidence(history())) == [
        "Groups that booked a time met 100% of the time (2 of 2); those that did not, 0% (0 of 2).",
        "Among groups that did not book, the reason most given for not meeting: busy (1)."]


def test_in_person_needs_everyone_willing_and_one_place() -> None:
    assert meeting_mode([("in_person", "Leeds"), ("either", " leeds ")]) == "in person"
    assert meeting_mode([("in_person", "Leeds"), ("in_person", "York")]) == "online"
    assert meeting_mode([("either", "Leeds"), ("either", "Leeds")]) == "online", "nobody asked to meet in person"
    assert meeting_mode([("", ""), ("", "")]) == "not said"


def test_the_digest_and_report_say_whether_booking_helped(service: Service) -> None:
    add_people(service, 8)
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 4 groups"]
    copies = {c.message["Message-ID"]: c.message for c in service.smtp.wait_for(8)}
    intros = list(copies.values())
    with service.session() as s, s.begin():
        matches = s.scalars(select(Match).order_by(Match.id)).all()
        by_intro = {m.intro_message_id: m for m in matches}
        for intro in intros[:2]:
            match = by_intro[intro["Message-ID"]]
            match.booked_start, match.booked_at = at("2026-12-08T10:00"), at("2026-12-01T12:00")
            match.options, match.options_at = '["2026-12-08T10:00:00+00:00"]', at("2026-12-01T10:00")
        called_off = by_intro[intros[2]["Message-ID"]]   # booked, then declined and never booked again
        called_off.booked_start, called_off.booking_state = at("2026-12-09T10:00"), "cancelled"
        for match in matches:
            first = s.scalars(select(MatchMember.participant_id).where(MatchMember.match_id == match.id)).first()
            match.host_id = first
    for intro in intros[:2]:
        service.imap.deliver(reply_to(intro, member(intro), "MET - lovely"))
    service.imap.deliver(reply_to(intros[2], member(intros[2]), "NOT MET - far too busy this month"))
    run(service, at("2026-12-03T10:00"))
    service.smtp.wait_for(11)
    service.smtp.clear()

    run(service, at("2027-01-04T10:00"))
    service.smtp.wait_for(9)
    [digest] = to_organiser(service)
    text = " ".join(digest.get_body(("plain",)).get_content().split())
    assert "Groups that booked a time met 100% of the time (2 of 2); those that did not, 0% (0 of 2)." in text
    assert "the reason most given for not meeting: busy (1)." in text
    [page] = [a.get_content() for a in digest.iter_attachments()]
    section = page[page.index('id="evidence"'):page.index('id="shares"')]
    assert "<th scope=\"row\">Booked</th><td>2 of 2</td><td>100%<br>(34% to 100%)</td>" in section
    assert "<th scope=\"row\">Did not book</th><td>0 of 2</td><td>0%<br>(0% to 66%)</td><td>busy 1</td>" in section
