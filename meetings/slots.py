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
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from meetings.availability import WEEKDAYS, Window
from rounds.schedule import WEEKDAYS as WEEKDAY_CALENDAR, Calendar

STEP = timedelta(minutes=30)
NOTICE = timedelta(hours=12)
"""The earliest option starts this long after it is offered: time to read the email and answer."""
MAX_DAYS_SPAN = timedelta(days=62)
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
    if not people:
        return []
    first = _ceil(max(earliest, now + NOTICE).astimezone(timezone.utc))
    return list(_slots(tuple(people), first, min(latest.astimezone(timezone.utc), first + MAX_DAYS_SPAN), rules))


@lru_cache(maxsize=4096)
def _slots(people: tuple[Person, ...], start: datetime, stop: datetime, rules: Rules) -> tuple[datetime, ...]:
    """Cached: most groups of a round are alike (no availability given, one zone), and a round has thousands."""
    shared = [(start, stop)]
    for person in people:
        shared = _intersect(shared, _free(person, start, stop, rules))
    length = timedelta(minutes=rules.minutes)
    by_day: dict[date, list[datetime]] = {}
    for begin, end in shared:
        at = _ceil(begin)
        while at + length <= end:
            by_day.setdefault(at.astimezone(people[0].zone).date(), []).append(at)
            at += STEP
    picks = {day: _preferred(starts, people, length, rules) for day, starts in sorted(by_day.items())}
    chosen = [pick for pick in picks.values() if pick is not None]
    return tuple(_spread(chosen, rules.count))


def _preferred(starts: list[datetime], people: tuple[Person, ...], length: timedelta,
               rules: Rules) -> datetime | None:
    """The first start from 10:00 on the first member's clock that fits everyone, else the day's first that does:
    not the minute work begins. Each is checked exactly (`fits`), so a clock change never slips through."""
    later = [at for at in starts if at.astimezone(people[0].zone).hour >= PREFERRED_HOUR]
    earlier = [at for at in starts if at not in later]
    return next((at for at in later + earlier if all(fits(p, at, length, rules) for p in people)), None)


def _free(person: Person, start: datetime, stop: datetime, rules: Rules) -> list[tuple[datetime, datetime]]:
    """The person's windows on their working days between `start` and `stop`, as merged UTC intervals."""
    first, last = start.astimezone(person.zone).date(), stop.astimezone(person.zone).date()
    spans = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        if rules.calendar.is_working(day):
            spans += [(_instant(day, begin, person.zone), _instant(day, end, person.zone))
                      for begin, end in _bounds(person, day.weekday(), rules) if begin < end]
    return _merged(sorted(spans))


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone).astimezone(timezone.utc)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif begin < end:
            merged.append((begin, end))
    return merged


def _intersect(a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Where two sorted lists of disjoint intervals overlap."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        begin, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if begin < end:
            out.append((begin, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


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


def _spread(items: list[datetime], count: int) -> list[datetime]:
    """`count` of `items` (one a day), evenly spaced from the first to the last (all when there are fewer)."""
    if len(items) <= count:
        return items
    if count == 1:
        return items[:1]
    picks = sorted({round(i * (len(items) - 1) / (count - 1)) for i in range(count)})
    return [items[i] for i in picks]


def _ceil(moment: datetime) -> datetime:
    """The next whole or half hour (UTC), or `moment` when it is one."""
    base = moment.replace(minute=0, second=0, microsecond=0)
    while base < moment:
        base += STEP
    return base
