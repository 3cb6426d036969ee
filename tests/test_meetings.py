"""From "you two should meet" to concrete options, through real IMAP/SMTP and both databases: PROFILE's
meeting lines, the introduction's options in each reader's own zone, host, place and starter, and the
reminders timed by the booking."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from meetings.offer import stored_options
from models import Match, OutboundMessage, Participant, Round, Status
from tests.app import Service
from tests.mail import incoming
from tests.test_commands import PERSONAL, SAM, add_sam, last_body, sam, send
from tick import tick

LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


def run(service: Service, when: datetime) -> list[str]:
    report = tick(service.engine, service.settings, now=lambda: when)
    assert report.errors == []
    return report.rounds


def add(service: Service, *people: dict[str, str]) -> list[int]:
    with service.session() as s, s.begin():
        rows = [Participant(status=Status.ACTIVE, reply_token=f"tok{i:04d}{p['email'][:2]}",
                            confirmed_at=at("2026-11-02T10:00"), **p) for i, p in enumerate(people)]
        s.add_all(rows)
        s.flush()
        return [p.id for p in rows]


def body(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


def copy_for(service: Service, email: str, kind: str) -> str:
    found = [c.message for c in service.smtp.messages if c.rcpt_tos == [email] and kind in c.message["Message-ID"]]
    assert len(found) == 1, f"{len(found)} {kind} emails to {email}"
    return body(found[0])


def test_profile_takes_when_and_how_and_shows_what_it_read(service: Service) -> None:
    add_sam(service)
    send(service, "PROFILE", "Available: Tue, Thu mornings; Fri 2-4pm\nMeet: in person\nWhere: Leeds\nTime zone: UK")
    person = sam(service)
    assert (person.available, person.meet_mode, person.place, person.time_zone) == (
        "Tue, Thu mornings; Fri 2-4pm", "in_person", "Leeds", "Europe/London")
    assert json.loads(person.availability)[-1] == {"day": "Fri", "from": "14:00", "to": "16:00"}
    answer = last_body(service)
    assert "Available: Tue, Thu mornings; Fri 2-4pm (we read: Tue, Thu until 12:00; Fri 14:00–16:00)" in answer
    assert "Meet: in person" in answer and "Where: Leeds" in answer and "Time zone: Europe/London" in answer


def test_an_availability_we_cannot_read_is_echoed_with_an_example(service: Service) -> None:
    add_sam(service)
    send(service, "PROFILE", "Available: Fridays")
    send(service, "PROFILE", "Available: whenever suits, not Mondays\nTime zone: Narnia\nRole: Analyst",
         message_id="<second@leeds.gov.uk>")
    person = sam(service)
    assert (person.available, person.time_zone, person.role) == ("Fridays", "", "Analyst"), "the rest is kept"
    answer = last_body(service)
    assert 'We couldn\'t use your Available line ("whenever suits, not Mondays"): we could not read "whenever"' in answer
    assert "Available: Tue, Thu mornings; Fri 2-4pm" in answer and "Time zone: Europe/London (or UK" in answer
    assert "updated your role" in answer


def test_a_reply_to_the_welcome_in_plain_words(service: Service) -> None:
    add_sam(service)
    service.imap.deliver(incoming(f"Sam <{SAM}>", "Re: Welcome to Coffee Roulette",
                                  "Hi,\n\nMornings are best, I'm in Leeds\n\nThanks,\nSam", to=PERSONAL,
                                  in_reply_to="<welcome.samtoken1.9d8e7f6a5b4c@example.org>"))
    service.tick()
    person = sam(service)
    assert (person.available, person.place) == ("Mornings are best", "Leeds")
    assert "updated your availability, place" in last_body(service)


def test_the_introduction_offers_times_in_each_readers_zone(service: Service) -> None:
    service.set("meetings", "video_link", "https://meet.example.org/coffee-{token}")
    service.set("meetings", "starters", "What surprised you this year?")
    add(service, {"email": "sam@leeds.gov.uk", "name": "Sam", "available": "Fri 2-4pm", "time_zone": "Europe/London",
                  "availability": '[{"day": "Fri", "from": "14:00", "to": "16:00"}]'},
        {"email": "ana@nyc.example", "name": "Ana", "time_zone": "America/New_York"})
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 1 group"]
    service.smtp.wait_for(2)
    with service.session() as s:
        match = s.scalars(select(Match)).one()
        options, host = stored_options(match), s.get_one(Participant, match.host_id)
        assert all(len(t) == 20 and t.endswith("Z") for t in json.loads(match.options))
        assert match.options_at == at("2026-12-01T10:00") and match.starter == "What surprised you this year?"
    assert [o.astimezone(LONDON).strftime("%a %-d %b") for o in options] == ["Fri 4 Dec", "Fri 11 Dec", "Fri 18 Dec"], \
        "Fridays only, three different ones, none on Christmas Day"
    for email, zone, label in (("sam@leeds.gov.uk", LONDON, "London time"), ("ana@nyc.example", NEW_YORK, "New York time")):
        text = copy_for(service, email, "intro")
        for n, start in enumerate(options, 1):
            begin, end = start.astimezone(zone), (start + timedelta(minutes=30)).astimezone(zone)
            assert f"{n}. {begin:%a %-d %b, %H:%M}–{end:%H:%M} ({label})" in text
        assert "Reply 1, 2 or 3 to book it, or suggest another time" in text
        assert f"{host.name} is the host this time" in text
        assert f"online, at https://meet.example.org/coffee-{match.token}" in text
        assert "Something to talk about: What surprised you this year?" in text
    assert {o.astimezone(LONDON).hour for o in options} <= {14, 15}
    assert {o.astimezone(NEW_YORK).hour for o in options} <= {9, 10}


def test_in_person_when_everyone_wants_it_and_shares_a_place(service: Service) -> None:
    add(service, {"email": "sam@leeds.gov.uk", "name": "Sam", "meet_mode": "in_person", "place": "Leeds"},
        {"email": "kim@nhs.net", "name": "Kim", "meet_mode": "either", "place": "leeds ", "video": "https://v.example/k"})
    run(service, at("2026-12-01T10:00"))
    service.smtp.wait_for(2)
    assert "you're all in Leeds, so meet in person" in copy_for(service, "kim@nhs.net", "intro")


def test_no_time_in_common_asks_them_to_find_one(service: Service) -> None:
    add(service, {"email": "sam@leeds.gov.uk", "name": "Sam", "availability": '[{"day": "Mon", "from": "09:00", "to": "10:00"}]'},
        {"email": "kim@nhs.net", "name": "Kim", "availability": '[{"day": "Tue", "from": "09:00", "to": "10:00"}]',
         "video": "https://v.example/kim"})
    run(service, at("2026-12-01T10:00"))
    service.smtp.wait_for(2)
    text = copy_for(service, "sam@leeds.gov.uk", "intro")
    assert "Next step: reply to all to find 30 minutes" in text and "Reply 1" not in text
    assert "online, at https://v.example/kim" in text, "a member's own video link"
    with service.session() as s:
        assert s.scalars(select(Match.options)).one() == "[]"


def test_hosts_rotate_and_nobody_gets_a_starter_twice(service: Service) -> None:
    service.set("meetings", "starters", "\\n".join(f"Starter {n}?" for n in range(5)))  # a TOML escape
    ids = add(service, *({"email": f"p{i}@org{i}.example", "name": f"P{i}"} for i in range(4)))
    for month in ("2026-12-01", "2027-01-04", "2027-02-01"):
        run(service, at(f"{month}T10:00"))
    with service.session() as s:
        matches = s.scalars(select(Match)).all()
        assert len(matches) == 6 and all(m.host_id in ids for m in matches)
        hosted = [sum(m.host_id == i for m in matches) for i in ids]
        assert max(hosted) - min(hosted) <= 1, hosted
        for person in ids:
            given = [m.starter for m in matches if person in {x.participant_id for x in m.members}]
            assert len(given) == 3 and all(given) and len(set(given)) == 3, given


def test_a_booked_group_is_asked_the_day_after_and_the_others_are_nudged_with_fresh_options(service: Service) -> None:
    add(service, *({"email": f"p{i}@org{i}.example", "name": f"P{i}"} for i in range(4)))
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 2 groups"]
    with service.session() as s, s.begin():
        booked, other = s.scalars(select(Match).order_by(Match.id)).all()
        booked.booked_start, booked.booking_state = at("2026-12-10T11:00"), "booked"  # Thursday
        first_options = other.options
        booked_to = sorted(s.get_one(Participant, m.participant_id).email for m in booked.members)
        other_to = sorted(s.get_one(Participant, m.participant_id).email for m in other.members)
    service.smtp.wait_for(4)
    service.smtp.clear()

    assert run(service, at("2026-12-11T08:55")) == []
    assert run(service, at("2026-12-11T09:05")) == ["round 1: checked in with 1 booked group"]
    checkins = service.smtp.wait_for(2)
    assert sorted(c.rcpt_tos[0] for c in checkins) == booked_to and "Did you meet" in body(checkins[0].message)
    assert run(service, at("2026-12-11T10:05")) == []
    service.smtp.clear()

    assert run(service, at("2026-12-18T09:05")) == ["round 1: nudged 1 group"]
    nudges = service.smtp.wait_for(2)
    assert sorted(c.rcpt_tos[0] for c in nudges) == other_to, "a booked group is not nudged"
    with service.session() as s:
        other = s.get_one(Match, other.id)
        fresh = stored_options(other)
        assert other.options != first_options and other.options_at == at("2026-12-18T09:05")
    assert fresh and all(at("2026-12-18T21:05") <= o < at("2026-12-29T09:00") for o in fresh)
    text = body(nudges[0].message)
    assert f"1. {fresh[0].astimezone(LONDON):%a %-d %b, %H:%M}" in text and "to book it" in text
    service.smtp.clear()

    assert run(service, at("2026-12-29T09:05")) == ["round 1: checked in with 1 group"]
    assert sorted(c.rcpt_tos[0] for c in service.smtp.wait_for(2)) == other_to, "no second check-in for the booked"
    with service.session() as s:
        kinds = s.scalars(select(OutboundMessage.kind).where(OutboundMessage.kind == "checkin")).all()
        assert len(kinds) == 4 and s.scalar(select(Round)).checked_in_at is not None


def test_a_cancelled_booking_is_none_and_a_meeting_too_late_for_the_round_gets_its_check_in(service: Service) -> None:
    add(service, *({"email": f"p{i}@org{i}.example", "name": f"P{i}"} for i in range(4)))
    run(service, at("2026-12-01T10:00"))
    with service.session() as s, s.begin():
        cancelled, late = s.scalars(select(Match).order_by(Match.id)).all()
        cancelled.booked_start, cancelled.booking_state = at("2026-12-10T11:00"), "cancelled"
        late.booked_start, late.booking_state = at("2026-12-31T11:00"), "booked"  # next working day: 4 January
        cancelled_to = sorted(s.get_one(Participant, m.participant_id).email for m in cancelled.members)
    service.smtp.wait_for(4)
    service.smtp.clear()
    assert run(service, at("2026-12-11T09:05")) == [], "a cancelled booking gets no check-in of its own"
    assert run(service, at("2026-12-18T09:05")) == ["round 1: nudged 1 group"]
    assert sorted(c.rcpt_tos[0] for c in service.smtp.wait_for(2)) == cancelled_to
    assert run(service, at("2026-12-29T09:05")) == ["round 1: checked in with 2 groups"], \
        "the round closes before the day after the late meeting, so the round's check-in asks"
    assert run(service, at("2027-01-01T09:05")) == []
