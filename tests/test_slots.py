"""The options an introduction offers (pure): fit everyone in their own zone, across both clock changes."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from meetings.availability import Window, parse_availability
from meetings.choose import choose_host, choose_starter, starter_lines
from meetings.slots import NOTICE, Person, Rules, find_slots, fits
from rounds.closed_days import calendar_for

LONDON, NEW_YORK, CAIRO = ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Africa/Cairo")
ENGLAND = Rules(calendar=calendar_for("GB-ENG", ""))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def local(start: datetime, zone: ZoneInfo, minutes: int = 30) -> tuple[str, str, str]:
    begin, end = start.astimezone(zone), (start + timedelta(minutes=minutes)).astimezone(zone)
    return begin.strftime("%a"), begin.strftime("%H:%M"), end.strftime("%H:%M")


def test_options_fit_each_persons_own_windows_and_spread_over_days() -> None:
    sam = Person(LONDON, tuple(parse_availability("Tue, Thu mornings; Fri 2-4pm")))
    kim = Person(LONDON)
    found = find_slots([sam, kim], utc("2026-12-01T09:00"), utc("2026-12-22T09:00"), utc("2026-12-01T09:00"), ENGLAND)
    assert len(found) == 3 and len({s.date() for s in found}) == 3 and found == sorted(found)
    assert found[0] >= utc("2026-12-01T09:00") + NOTICE, "time to read the email first"
    assert found[-1] - found[0] > timedelta(days=10), "spread over the round, not three days in a row"
    for start in found:
        day, begin, end = local(start, LONDON)
        assert (day in ("Tue", "Thu") and end <= "12:00") or (day == "Fri" and "14:00" <= begin and end <= "16:00")


def test_no_option_on_a_public_holiday_or_in_the_past() -> None:
    found = find_slots([Person(LONDON)], utc("2026-12-21T09:00"), utc("2027-01-08T17:00"), utc("2026-12-23T12:00"),
                       Rules(count=5, calendar=ENGLAND.calendar))
    days = {s.astimezone(LONDON).date() for s in found}
    assert not days & {date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)}, "Christmas, Boxing Day (moved), New Year"
    assert min(found) >= utc("2026-12-23T12:00") + NOTICE


def test_no_time_in_common_gives_no_options() -> None:
    early = Person(LONDON, (Window(1, 7 * 60, 8 * 60),))
    assert find_slots([early, Person(LONDON)], utc("2026-12-01T00:00"), utc("2026-12-31T00:00"),
                      utc("2026-12-01T00:00")) == []


def _london_new_york(first: str, last: str) -> list[datetime]:
    return find_slots([Person(LONDON), Person(NEW_YORK)], utc(first), utc(last), utc(first),
                      Rules(count=5, calendar=ENGLAND.calendar))


def test_the_march_change_week_in_each_persons_own_hours() -> None:
    """New York moves to summer time on 14 March 2027, London on the 28th: for two weeks the overlap is an
    hour longer, and from the 29th London's 14:00 is New York's 09:00 again."""
    found = _london_new_york("2027-03-22T00:00", "2027-04-02T23:00")
    assert found and all(local(s, zone)[1] >= "09:00" and local(s, zone)[2] <= "17:00"
                         for s in found for zone in (LONDON, NEW_YORK))
    before = [s for s in found if s < utc("2027-03-28T01:00")]
    after = [s for s in found if s > utc("2027-03-28T01:00")]
    assert before and after
    assert {local(s, NEW_YORK)[1] for s in before} == {"09:00"} and {local(s, LONDON)[1] for s in before} == {"13:00"}
    assert {local(s, LONDON)[1] for s in after} == {"14:00"}


def test_the_october_change_week_in_each_persons_own_hours() -> None:
    """London goes back on 31 October 2027, New York on 7 November: a week with a four-hour gap."""
    found = _london_new_york("2027-10-25T00:00", "2027-11-12T23:00")
    assert found and all(local(s, zone)[1] >= "09:00" and local(s, zone)[2] <= "17:00"
                         for s in found for zone in (LONDON, NEW_YORK))
    assert {local(s, LONDON)[1] for s in found if utc("2027-10-31T01:00") < s < utc("2027-11-07T06:00")} == {"13:00"}


def test_never_across_a_clock_change() -> None:
    """Cairo springs forward at midnight on Friday 30 April 2027: 00:00-01:00 that night does not exist, and a
    slot from 23:30 would end at 01:00 on the wall clock. Neither is offered; 23:00 and 01:00 are."""
    night = Person(CAIRO, (Window(3, 23 * 60, 24 * 60), Window(4, 0, 2 * 60)))
    rules = Rules(minutes=30, count=5)
    assert not fits(night, utc("2027-04-29T21:30"), timedelta(minutes=30), rules), "23:30 to 01:00"
    found = find_slots([night], utc("2027-04-29T12:00"), utc("2027-04-30T06:00"), utc("2027-04-29T00:00"), rules)
    assert [s.astimezone(CAIRO).strftime("%a %H:%M") for s in found] == ["Thu 23:00", "Fri 01:00"]
    autumn = Person(CAIRO, (Window(3, 22 * 60, 24 * 60),))
    assert not fits(autumn, utc("2027-10-28T20:30"), timedelta(minutes=60), Rules(minutes=60)), \
        "Cairo falls back at midnight on 28 October 2027: 23:30 to 23:30 is no meeting"


ZONES = st.sampled_from([LONDON, NEW_YORK, CAIRO, ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Sydney"),
                         ZoneInfo("UTC")])
WINDOWS = st.lists(st.builds(lambda d, a, n: Window(d, a * 30, min(24 * 60, a * 30 + n * 30)),
                             st.integers(0, 6), st.integers(0, 46), st.integers(1, 16)), max_size=4)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.builds(lambda z, w: Person(z, tuple(w)), ZONES, WINDOWS), min_size=1, max_size=4),
       st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 1)), st.integers(7, 40),
       st.sampled_from([15, 30, 45, 60]), st.integers(1, 5))
def test_every_option_fits_everyone_whatever_the_zones(people: list[Person], start: datetime, days: int,
                                                       minutes: int, count: int) -> None:
    start = start.replace(tzinfo=timezone.utc)
    rules = Rules(minutes=minutes, count=count, calendar=ENGLAND.calendar)
    found = find_slots(people, start, start + timedelta(days=days), start, rules)
    assert len(found) <= count and found == sorted(found)
    assert len({s.astimezone(people[0].zone).date() for s in found}) == len(found), "one option a day"
    for s in found:
        assert s.tzinfo is not None and s.utcoffset() == timedelta(0) and s >= start + NOTICE
        for person in people:
            assert fits(person, s, timedelta(minutes=minutes), rules)
            wall = s.astimezone(person.zone).replace(tzinfo=None)
            assert wall.replace(tzinfo=person.zone).astimezone(timezone.utc) == s, "a local time that exists"


def test_the_host_is_who_hosted_least_with_ties_drawn_by_the_seed() -> None:
    assert choose_host([1, 2, 3], {1: 2, 2: 0, 3: 1}, seed=5) == 2
    drawn = {choose_host([1, 2], {}, seed) for seed in range(20)}
    assert drawn == {1, 2} and choose_host([1, 2], {}, 7) == choose_host([2, 1], {}, 7)


def test_hosting_rotates_fairly_over_rounds() -> None:
    hosted: dict[int, int] = {}
    for seed in range(12):
        host = choose_host([1, 2, 3], hosted, seed)
        hosted[host] = hosted.get(host, 0) + 1
    assert hosted == {1: 4, 2: 4, 3: 4}


def test_a_starter_nobody_in_the_group_had_before() -> None:
    starters = starter_lines("What surprised you this year?\n\n  What would you automate first?  \n"
                             "What surprised you this year?\nWho should we both meet?")
    assert starters == ["What surprised you this year?", "What would you automate first?", "Who should we both meet?"]
    given_before: set[str] = set()
    for seed in range(3):
        chosen = choose_starter(starters, given_before, seed)
        assert chosen and chosen not in given_before
        given_before.add(chosen)
    assert choose_starter(starters, given_before, 9) == "", "none left: better none than a repeat"
