"""When rounds open, and when their nudge and check-in are due (pure: `now` is passed in).

Cadences an organiser can write in `rounds.cadence`:

- ``monthly``: the first working day (Monday to Friday) of each month;
- ``monthly on day 15``: that day of each month (moved to the next working day);
- ``every 2 weeks``: every N weeks from `rounds.start` (or the first round).

Rounds open at `rounds.open_hour` local time. A round closes when the next one
opens; its nudge is due halfway through and its check-in at 80 %.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NUDGE_AT = 0.5
CHECKIN_AT = 0.8


class CadenceError(ValueError):
    """The cadence text is not one we understand."""


@dataclass(frozen=True)
class Cadence:
    kind: str
    day: int = 1
    weeks: int = 0


def parse_cadence(text: str) -> Cadence:
    cleaned = " ".join(text.lower().split())
    if cleaned == "monthly":
        return Cadence("monthly")
    if match := re.fullmatch(r"monthly on day (\d{1,2})", cleaned):
        day = int(match.group(1))
        if not 1 <= day <= 28:
            raise CadenceError("use a day from 1 to 28 so every month has it")
        return Cadence("day", day=day)
    if match := re.fullmatch(r"every (\d{1,2}) weeks?", cleaned):
        return Cadence("weeks", weeks=max(1, int(match.group(1))))
    raise CadenceError('write "monthly", "monthly on day 15" or "every 2 weeks"')


def working_day_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def opening_dates_after(cadence: Cadence, after: date, anchor: date) -> date:
    """The first opening date strictly after `after`."""
    if cadence.kind == "weeks":
        step = timedelta(weeks=cadence.weeks)
        if anchor > after:
            return anchor
        return anchor + step * ((after - anchor) // step + 1)
    for months in range(0, 3):
        first = _month_start(after, months)
        candidate = working_day_on_or_after(first.replace(day=cadence.day) if cadence.kind == "day" else first)
        if candidate > after:
            return candidate
    raise AssertionError("a month always has a working day")


def at_local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz)


def next_opening(cadence: Cadence, last_opened: datetime | None, anchor: date, hour: int, tz: ZoneInfo) -> datetime:
    """When the next round opens: after the last round's opening day, or from the anchor on."""
    after = last_opened.astimezone(tz).date() if last_opened else anchor - timedelta(days=1)
    return at_local(opening_dates_after(cadence, after, anchor), hour, tz)


@dataclass(frozen=True)
class Timeline:
    opens: datetime
    nudge: datetime
    checkin: datetime
    closes: datetime


def timeline(opens: datetime, closes: datetime) -> Timeline:
    length = closes - opens
    return Timeline(opens, opens + length * NUDGE_AT, opens + length * CHECKIN_AT, closes)
