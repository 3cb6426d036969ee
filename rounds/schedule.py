"""When rounds open, and when their nudge and check-in are due (pure: `now` is passed in).

Cadences an organiser can write in `rounds.cadence`:

- ``monthly``: the first working day of each month;
- ``monthly on day 15``: that day of each month (moved to the next working day);
- ``every 2 weeks``: every N weeks from `rounds.start` (or the first round), each
  date moved to the next working day when it is not one.

A working day is Monday to Friday and not a closed day (public holidays and the
organiser's own, see `rounds/closed_days.py`). Rounds open at `rounds.open_hour`
local time. A round closes when the next one opens; its nudge is due halfway
through and its check-in at 80 %, each moved off a closed day.
"""
from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
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


@dataclass(frozen=True)
class Calendar:
    """Which days are working days: Monday to Friday, except the closed ones."""

    closed: Container[date] = field(default_factory=frozenset)

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closed

    def on_or_after(self, day: date) -> date:
        for _ in range(366):
            if self.is_working(day):
                return day
            day += timedelta(days=1)
        raise CadenceError("no working day in a whole year: check rounds.closed_days")


WEEKDAYS = Calendar()


def _month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def opening_dates_after(cadence: Cadence, after: date, anchor: date, calendar: Calendar = WEEKDAYS) -> date:
    """The first opening date strictly after `after`."""
    if cadence.kind == "weeks":
        step = timedelta(weeks=cadence.weeks)
        due = anchor if anchor > after else anchor + step * ((after - anchor) // step + 1)
        return calendar.on_or_after(due)
    for months in range(0, 3):
        first = _month_start(after, months)
        candidate = calendar.on_or_after(first.replace(day=cadence.day) if cadence.kind == "day" else first)
        if candidate > after:
            return candidate
    raise AssertionError("a month always has a working day")


def at_local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz)


def next_opening(cadence: Cadence, last_opened: datetime | None, anchor: date, hour: int, tz: ZoneInfo,
                 calendar: Calendar = WEEKDAYS) -> datetime:
    """When the next round opens: after the last round's opening day, or from the anchor on."""
    after = last_opened.astimezone(tz).date() if last_opened else anchor - timedelta(days=1)
    return at_local(opening_dates_after(cadence, after, anchor, calendar), hour, tz)


@dataclass(frozen=True)
class Timeline:
    opens: datetime
    nudge: datetime
    checkin: datetime
    closes: datetime


def timeline(opens: datetime, closes: datetime, calendar: Calendar = WEEKDAYS, tz: tzinfo = timezone.utc,
             hour: int | None = None) -> Timeline:
    """The round's steps, each at `hour` (default: the opening's hour) on a working day.

    The nudge falls on the day halfway through and the check-in on the day at 80 %; a
    day that is not a working day gives way to the next one, or to the last one before
    it when the next would reach the following step. Only a round too short for any of
    that keeps the exact fraction."""
    length = closes - opens
    hour = opens.astimezone(tz).hour if hour is None else hour
    checkin = _working_time(opens + length * CHECKIN_AT, opens, closes, calendar, tz, hour)
    nudge = _working_time(opens + length * NUDGE_AT, opens, checkin, calendar, tz, hour)
    return Timeline(opens, nudge, checkin, closes)


def _working_time(due: datetime, earliest: datetime, latest: datetime, calendar: Calendar, tz: tzinfo,
                  hour: int) -> datetime:
    """`hour` on a working day strictly between `earliest` and `latest`: `due`'s own day,
    else the first one after it, else the last one before it; with none, the fraction
    itself (kept before `latest`, so the steps stay in order)."""
    day = due.astimezone(tz).date()
    first, last = earliest.astimezone(tz).date(), latest.astimezone(tz).date()
    after = [day + timedelta(days=n) for n in range((last - day).days + 1)]
    before = [day - timedelta(days=n) for n in range(1, (day - first).days + 1)]
    for candidate in after + before:
        at = datetime.combine(candidate, time(hour), tzinfo=tz)
        if calendar.is_working(candidate) and earliest < at < latest:
            return at
    return due if due < latest else earliest + (latest - earliest) / 2
