"""When rounds open (pure)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from rounds.closed_days import ClosedDaysError, calendar_for, parse_closed_days
from rounds.schedule import CadenceError, next_opening, parse_cadence, timeline

LONDON = ZoneInfo("Europe/London")


def opening(cadence: str, last: str | None, anchor: str) -> datetime:
    last_dt = datetime.fromisoformat(last).replace(tzinfo=timezone.utc) if last else None
    return next_opening(parse_cadence(cadence), last_dt, date.fromisoformat(anchor), 9, LONDON)


@pytest.mark.parametrize("cadence, last, anchor, expected", [
    ("monthly", None, "2026-11-24", "2026-12-01T09:00"),
    ("monthly", "2026-12-01T09:00", "2026-11-24", "2027-01-01T09:00"),
    ("monthly", "2027-07-01T09:00", "2026-11-24", "2027-08-02T09:00"),
    ("monthly", "2026-12-10T15:00", "2026-11-24", "2027-01-01T09:00"),
    ("monthly on day 15", "2027-01-15T09:00", "2026-11-24", "2027-02-15T09:00"),
    ("monthly on day 15", "2027-04-15T09:00", "2026-11-24", "2027-05-17T09:00"),
    ("every 2 weeks", None, "2027-01-04", "2027-01-04T09:00"),
    ("every 2 weeks", "2027-01-04T09:00", "2027-01-04", "2027-01-18T09:00"),
    ("every 2 weeks", "2027-03-01T09:00", "2027-01-04", "2027-03-15T09:00"),
])
def test_next_opening(cadence: str, last: str | None, anchor: str, expected: str) -> None:
    assert opening(cadence, last, anchor) == datetime.fromisoformat(expected).replace(tzinfo=LONDON)


def test_summer_time_opens_at_nine_local() -> None:
    opens = opening("monthly", "2027-06-01T08:00", "2026-11-24")
    assert opens.astimezone(timezone.utc).hour == 8 and opens.astimezone(LONDON).hour == 9


def test_nudge_halfway_checkin_at_four_fifths_at_the_opening_hour() -> None:
    start = datetime(2027, 1, 4, 9, tzinfo=timezone.utc)
    steps = timeline(start, datetime(2027, 2, 1, 9, tzinfo=timezone.utc))
    assert steps.nudge == datetime(2027, 1, 18, 9, tzinfo=timezone.utc)
    assert steps.checkin == datetime(2027, 1, 26, 9, tzinfo=timezone.utc), "day 22.4 of 28, at nine"


def test_a_step_due_at_the_weekend_moves_to_monday_or_back_to_friday() -> None:
    """Nobody is nudged on a Saturday: on to Monday at the opening hour, unless that is
    already the round's next step, then back to Friday."""
    monday = datetime(2027, 1, 4, 9, tzinfo=LONDON)
    longer = timeline(monday, datetime(2027, 1, 11, 21, tzinfo=LONDON))
    assert longer.checkin == datetime(2027, 1, 11, 9, tzinfo=LONDON), "due Sunday: Monday at nine"
    assert longer.nudge == datetime(2027, 1, 8, 9, tzinfo=LONDON)
    week = timeline(monday, datetime(2027, 1, 11, 9, tzinfo=LONDON))
    assert week.checkin == datetime(2027, 1, 8, 9, tzinfo=LONDON), "Monday at nine is the close: Friday"
    assert week.nudge == datetime(2027, 1, 7, 9, tzinfo=LONDON)


def test_a_round_too_short_for_working_days_keeps_the_exact_fraction() -> None:
    friday_noon = datetime(2027, 1, 8, 12, tzinfo=LONDON)
    steps = timeline(friday_noon, datetime(2027, 1, 10, 12, tzinfo=LONDON), hour=9)
    assert steps.nudge == datetime(2027, 1, 9, 12, tzinfo=LONDON)


ENGLAND = calendar_for("GB-ENG", "")


@pytest.mark.parametrize("cadence, last, anchor, expected", [
    ("monthly", "2026-12-01T09:00", "2026-11-24", "2027-01-04T09:00"),   # 1 Jan is New Year's Day
    ("monthly", "2027-04-01T09:00", "2026-11-24", "2027-05-04T09:00"),   # Mon 3 May is May Day
    ("monthly on day 25", "2026-11-25T09:00", "2026-11-24", "2026-12-29T09:00"),  # Christmas, Boxing Day observed
    ("every 2 weeks", "2027-03-15T09:00", "2027-01-04", "2027-03-30T09:00"),  # Easter Monday 29 March
    ("every 2 weeks", "2027-03-30T09:00", "2027-01-04", "2027-04-12T09:00"),  # back on the fortnightly Monday
])
def test_rounds_do_not_open_on_public_holidays(cadence: str, last: str, anchor: str, expected: str) -> None:
    last_dt = datetime.fromisoformat(last).replace(tzinfo=LONDON)
    opens = next_opening(parse_cadence(cadence), last_dt, date.fromisoformat(anchor), 9, LONDON, ENGLAND)
    assert opens == datetime.fromisoformat(expected).replace(tzinfo=LONDON)


def test_scotland_has_its_own_holidays_and_organisers_add_their_own() -> None:
    new_year = datetime(2026, 12, 1, 9, tzinfo=LONDON)
    scotland = next_opening(parse_cadence("monthly"), new_year, date(2026, 11, 24), 9, LONDON,
                            calendar_for("GB-SCT", ""))
    assert scotland.date() == date(2027, 1, 5), "2 January is a holiday in Scotland (observed on the 4th)"
    shutdown = calendar_for("GB-ENG", "2027-01-04 to 2027-01-06, 2027-01-08")
    opens = next_opening(parse_cadence("monthly"), new_year, date(2026, 11, 24), 9, LONDON, shutdown)
    assert opens.date() == date(2027, 1, 7)
    assert next_opening(parse_cadence("monthly"), new_year, date(2026, 11, 24), 9, LONDON).date() == date(2027, 1, 1)


@pytest.mark.parametrize("cadence", ["every 1 week", "every 2 weeks", "monthly", "monthly on day 25"])
def test_every_round_for_two_years_keeps_its_steps_in_order_on_working_days(cadence: str) -> None:
    """Easter, Christmas and New Year move openings about; the nudge still comes before the
    check-in, both before the close, each at nine on a working day."""
    parsed, anchor, opens = parse_cadence(cadence), date(2026, 1, 5), None
    for _ in range(110 if "week" in cadence else 24):
        following = next_opening(parsed, opens, anchor, 9, LONDON, ENGLAND)
        if opens is not None:
            steps = timeline(opens, following, ENGLAND, LONDON, 9)
            assert steps.opens < steps.nudge < steps.checkin < steps.closes, steps
            for step in (steps.nudge, steps.checkin):
                assert ENGLAND.is_working(step.date()) and step.hour == 9, (cadence, steps)
        opens = following


@pytest.mark.parametrize("text", ["24/12/2026", "2026-12-31 to 2026-12-24", "2026-01-01 to 2027-06-01", "soon"])
def test_closed_days_that_cannot_be_read_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ClosedDaysError, match="2026-12-24|forwards"):
        parse_closed_days(text)


@pytest.mark.parametrize("text", ["weekly-ish", "monthly on day 31", "every weeks", ""])
def test_unknown_cadences_are_refused_with_examples(text: str) -> None:
    with pytest.raises(CadenceError):
        parse_cadence(text)
