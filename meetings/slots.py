"""Concrete times a group could meet (pure): every instant is UTC, every check is in each person's own zone.

A slot fits when, for everyone in the group, it starts and ends on the same
working day of their own calendar, inside one of their weekly windows (or their
working hours when they gave none), and lasts exactly its length on their wall
clock: a slot that a clock change cuts or stretches (a DST gap or overlap) is
never offered. Candidates are taken on a grid of whole and half hours in UTC, so
no local time that does not exist is ever produced. Options go on different
days, spread over the days that have one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from meetings.availability import WEEKDAYS, Window
from rounds.schedule import WEEKDAYS as WEEKDAY_CALENDAR, Calendar

STEP = timedelta(minutes=30)
NOTICE = timedelta(hours=12)
"""The earliest option starts this long after it is offered: time to read the email and answer."""
MAX_DAYS = 62
PREFERRED_HOUR = 10


@dataclass(frozen=True)
class Person:
    """What slots need about one member: their zone and weekly windows (none = working hours, weekdays)."""

    zone: ZoneInfo
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Rules:
    minutes: int = 30
    count: int = 3
    day_start: int = 9
    day_end: int = 17
    calendar: Calendar = WEEKDAY_CALENDAR


def find_slots(people: list[Person], earliest: datetime, latest: datetime, now: datetime,
               rules: Rules = Rules()) -> list[datetime]:
    """Up to `rules.count` UTC starts, one per day (the first member's), spread between `earliest` and
    `latest` (the last end), none sooner than NOTICE after `now`."""
    by_day = _fitting_by_day(people, max(earliest, now + NOTICE), latest, rules)
    return [_preferred(by_day[day], people[0].zone) for day in _spread(sorted(by_day), rules.count)]


def _preferred(starts: list[datetime], zone: ZoneInfo) -> datetime:
    """The first start from 10:00 (the first member's clock), else the day's first: not the minute work begins."""
    return next((at for at in starts if at.astimezone(zone).hour >= PREFERRED_HOUR), starts[0])


def _fitting_by_day(people: list[Person], start: datetime, latest: datetime, rules: Rules) -> dict[date, list[datetime]]:
    length = timedelta(minutes=rules.minutes)
    at = _ceil(start.astimezone(timezone.utc))
    stop = min(latest.astimezone(timezone.utc), at + timedelta(days=MAX_DAYS))
    found: dict[date, list[datetime]] = {}
    while at + length <= stop:
        if people and all(fits(p, at, length, rules) for p in people):
            found.setdefault(at.astimezone(people[0].zone).date(), []).append(at)
        at += STEP
    return found


def fits(person: Person, start: datetime, length: timedelta, rules: Rules) -> bool:
    """Whether [start, start + length) is inside this person's own working day and windows."""
    local_start, local_end = start.astimezone(person.zone), (start + length).astimezone(person.zone)
    begin = local_start.hour * 60 + local_start.minute
    end = local_end.hour * 60 + local_end.minute + (24 * 60 if local_end.date() > local_start.date() else 0)
    if end > 24 * 60 or not rules.calendar.is_working(local_start.date()):
        return False
    if end - begin != rules.minutes:
        return False  # the wall clock jumped inside the slot
    return any(w_start <= begin and end <= w_end for w_start, w_end in _bounds(person, local_start.weekday(), rules))


def _bounds(person: Person, weekday: int, rules: Rules) -> list[tuple[int, int]]:
    windows = person.windows or tuple(Window(d) for d in WEEKDAYS)
    return [w.bounds(rules.day_start, rules.day_end) for w in windows if w.day == weekday]


def _spread(days: list[date], count: int) -> list[date]:
    """`count` of `days`, evenly spaced from the first to the last (all of them when there are fewer)."""
    if len(days) <= count:
        return days
    if count == 1:
        return days[:1]
    picks = sorted({round(i * (len(days) - 1) / (count - 1)) for i in range(count)})
    return [days[i] for i in picks]


def _ceil(moment: datetime) -> datetime:
    """The next whole or half hour (UTC), or `moment` when it is one."""
    base = moment.replace(minute=0, second=0, microsecond=0)
    while base < moment:
        base += STEP
    return base
