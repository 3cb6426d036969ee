"""When rounds open (pure)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

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


def test_nudge_halfway_checkin_at_four_fifths() -> None:
    start = datetime(2027, 1, 1, 9, tzinfo=timezone.utc)
    steps = timeline(start, datetime(2027, 1, 11, 9, tzinfo=timezone.utc))
    assert (steps.nudge - start).days == 5 and (steps.checkin - start).days == 8


@pytest.mark.parametrize("text", ["weekly-ish", "monthly on day 31", "every weeks", ""])
def test_unknown_cadences_are_refused_with_examples(text: str) -> None:
    with pytest.raises(CadenceError):
        parse_cadence(text)
