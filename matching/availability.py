"""A participant's weekly availability as the UTC hours of the week the matcher compares.

The profile keeps availability as JSON (meetings.availability.to_json: ``{"day":
"Tue", "from": "09:00", "to": null}``, an open end being the working day's edge);
plain ``[weekday, start_minute, end_minute]`` lists are read too: windows (weekday 0 = Monday, minutes from local midnight, end
after start, at most 24 * 60) in the person's own IANA time zone. The matcher
wants hours of the week in UTC (0 = Monday 00:00 UTC ... 167), so that
people in different zones compare directly. An hour counts when the window
covers at least half of it; offsets that are not whole hours are rounded down
to the hour. Zones change offset during the year, so the conversion is made
for a given week (the round's). Whatever cannot be read gives the empty set,
which the matcher reads as "any time": a bad profile never blocks a draw.
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_WINDOWS = 60
MAX_CHARS = 5_000
HOURS_OF_WEEK = 168
DAY_MINUTES = 24 * 60


def utc_slots(availability: str, time_zone: str, default_zone: tzinfo, week_of: date) -> frozenset[int]:
    """The UTC hours of the week covered by ``availability`` in the week containing ``week_of``."""
    windows = read_windows(availability)
    if not windows:
        return frozenset()
    zone = zone_or(time_zone, default_zone)
    monday = week_of - timedelta(days=week_of.weekday())
    hours = set()
    for weekday, start, end in windows:
        day = monday + timedelta(days=weekday)
        for hour in range(start // 60, -(-end // 60)):
            if min(end, hour * 60 + 60) - max(start, hour * 60) >= 30:
                hours.add(utc_hour(datetime.combine(day, time(hour), zone)))
    return frozenset(hours)


def read_windows(availability: str) -> list[tuple[int, int, int]]:
    """The well-formed windows of the JSON (malformed ones are skipped)."""
    if not availability or len(availability) > MAX_CHARS:
        return []
    try:
        data = json.loads(availability)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [window for item in data[:MAX_WINDOWS] if (window := _window(item)) is not None]


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OPEN_START, OPEN_END = 9 * 60, 17 * 60   # an open end ("mornings": until noon from the start of the day)


def _window(item: object) -> tuple[int, int, int] | None:
    if isinstance(item, dict):
        return _profile_window(item)
    if not isinstance(item, list) or len(item) != 3 or not all(type(x) is int for x in item):
        return None
    weekday, start, end = item
    if not 0 <= weekday <= 6 or not 0 <= start < end <= DAY_MINUTES:
        return None
    return weekday, start, end


def _profile_window(item: dict[str, object]) -> tuple[int, int, int] | None:
    """A window as PROFILE stores it (meetings.availability.to_json): {"day": "Tue", "from": "09:00", "to": null}."""
    day, start, end = item.get("day"), _minutes(item.get("from"), OPEN_START), _minutes(item.get("to"), OPEN_END)
    if day not in DAY_NAMES or start is None or end is None:
        return None
    return _window([DAY_NAMES.index(str(day)), start, end])


def _minutes(text: object, open_end: int) -> int | None:
    if text is None or text == "":
        return open_end
    hours, _, minutes = str(text).partition(":")
    return int(hours) * 60 + int(minutes) if hours.isdigit() and minutes.isdigit() else None


def zone_or(name: str, default: tzinfo) -> tzinfo:
    """The named IANA zone, or ``default`` when the name is empty or unknown."""
    if not name or len(name) > 64:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return default


def utc_hour(moment: datetime) -> int:
    utc = moment.astimezone(UTC)
    return (utc.weekday() * 24 + utc.hour) % HOURS_OF_WEEK
