"""When someone can meet, read from their own words (pure): "Tue, Thu mornings; Fri 2-4pm".

The words become weekly windows in the person's own time zone. A window's open end
(`None`) stands for the edge of the working day (`meetings.day_start` / `day_end`),
so "mornings" is "from the start of the working day until 12:00" whatever the
organiser sets. Days alone mean their whole working day; times alone mean every
weekday. Every word must be understood: anything else ("except", "not", a typo)
makes the text unreadable, so a guess is never stored in place of what was meant.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS = (0, 1, 2, 3, 4)
MAX_CHARS = 300
EXAMPLE = "Available: Tue, Thu mornings; Fri 2-4pm"

_DAY = r"(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day)?s?|(?:tuesday|wednesday|thursday|saturday)s?"
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_PERIODS: dict[str, tuple[int | None, int | None]] = {
    "morning": (None, 12 * 60), "lunch": (12 * 60, 14 * 60), "lunchtime": (12 * 60, 14 * 60),
    "afternoon": (12 * 60, None), "evening": (17 * 60, 20 * 60), "after lunch": (13 * 60, None),
    "before lunch": (None, 12 * 60), "all day": (None, None), "any time": (None, None), "anytime": (None, None),
    "noon": (12 * 60, 13 * 60), "midday": (12 * 60, 13 * 60),
}
_EVERY_WEEKDAY = ("weekdays", "weekday", "every day", "everyday", "any day", "daily", "all week", "any weekday",
                  "most days", "working days")
FILLERS = frozenset(
    "and or on in the any are is best good fine free i'm im i am available usually mostly only works work suit suits "
    "me for at ok okay preferably prefer ideally generally most ish either great better days day times time "
    "from between preferred possible normally typically often".split()
)
_TOKEN = re.compile(
    r"(?P<range>(?:from\s+|between\s+)?" + _TIME + r"\s*(?:-|to|until|till|and)\s*" + _TIME + r")"
    r"|(?P<after>(?:from|after)\s+" + _TIME + r")"
    r"|(?P<before>(?:before|until|till|up to)\s+" + _TIME + r")"
    r"|(?P<period>" + "|".join(sorted((re.escape(p) for p in _PERIODS), key=len, reverse=True)) + r")s?\b"
    r"|(?P<every>" + "|".join(_EVERY_WEEKDAY) + r")\b"
    r"|(?P<dayrange>(?:" + _DAY + r")\s*(?:-|to|through|thru|until)\s*(?:" + _DAY + r"))\b"
    r"|(?P<day>" + _DAY + r")\b"
    r"|(?P<stop>[;\n]|\.(?!\d))"
    r"|(?P<word>[^\s;,&/+]+|[,&/+])",
)


class Unreadable(ValueError):
    """Words we could not read as times; the message names the first one."""


@dataclass(frozen=True)
class Window:
    """A weekly window in the person's own time: `day` 0 = Monday; minutes from midnight, None = working day's edge."""

    day: int
    start: int | None = None
    end: int | None = None

    def bounds(self, day_start: int, day_end: int) -> tuple[int, int]:
        """(start, end) in minutes, open ends filled in with the working day (hours)."""
        return (day_start * 60 if self.start is None else self.start,
                day_end * 60 if self.end is None else self.end)


@dataclass
class _Group:
    days: list[int]
    times: list[tuple[int | None, int | None]]
    days_first: bool

    def windows(self) -> list[Window]:
        return [Window(day, start, end) for day in (self.days or list(WEEKDAYS))
                for start, end in (self.times or [(None, None)])]


def parse_availability(text: str) -> list[Window]:
    """Weekly windows for `text`, [] for "any time" or nothing, or Unreadable."""
    cleaned = " ".join(text.lower().replace("–", "-").replace("—", "-").split())[:MAX_CHARS]
    groups: list[_Group] = []
    current: _Group | None = None
    for found in _TOKEN.finditer(cleaned):
        kind, value = found.lastgroup or "word", found.group()
        if kind == "stop":
            current = None
        elif kind in ("day", "dayrange", "every"):
            if current is None or (current.days_first and current.times):
                current = _Group([], [], True)
                groups.append(current)
            current.days += _days(kind, value)
        elif kind == "word":
            word = value.strip(",&/+!?()")
            if word and word not in FILLERS:
                raise Unreadable(word)
        else:
            if current is None or (not current.days_first and current.days):
                current = _Group([], [], False)
                groups.append(current)
            current.times.append(_times(kind, found))
    windows = [w for g in groups for w in g.windows()]
    return sorted(set(windows), key=lambda w: (w.day, w.start or 0, w.end or 24 * 60))


def _days(kind: str, value: str) -> list[int]:
    if kind == "every":
        return list(WEEKDAYS)
    numbers = [DAY_NAMES.index(name.capitalize()) for name in re.findall(r"\b(mon|tue|wed|thu|fri|sat|sun)", value)]
    if kind == "dayrange" and len(numbers) == 2:
        first, last = numbers
        return [d % 7 for d in range(first, last + (7 if last < first else 0) + 1)]
    return numbers[:1]


def _times(kind: str, found: re.Match[str]) -> tuple[int | None, int | None]:
    value = found.group()
    if kind == "period":
        return _PERIODS[value.rstrip("s") if value.rstrip("s") in _PERIODS else value]
    parts = re.findall(_TIME, value)
    if kind == "after":
        return _clock(parts[0], None), None
    if kind == "before":
        return None, _clock(parts[0], None)
    start_suffix, end_suffix = parts[0][2], parts[1][2]
    end = _clock(parts[1], None)
    start = _clock(parts[0], end_suffix if not start_suffix else None)
    if start is not None and end is not None and start >= end and not start_suffix and end_suffix:
        start = _clock(parts[0], "am")
    if start is None or end is None or start >= end:
        raise Unreadable(value)
    return start, end


def _clock(part: tuple[str, str, str], borrowed: str | None) -> int | None:
    """Minutes from midnight for ("2", "30", "pm"); without am/pm, 1-7 o'clock is afternoon ("2-4" = 14:00-16:00)."""
    hour, minutes = int(part[0]), int(part[1] or 0)
    suffix = (part[2] or borrowed or "").replace(".", "")
    if minutes >= 60 or hour > 24 or (suffix and not 1 <= hour <= 12):
        raise Unreadable(":".join(p for p in part[:2] if p))
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    elif not suffix and 1 <= hour <= 7:
        hour += 12
    return hour * 60 + minutes


def to_json(windows: list[Window]) -> str:
    return json.dumps([{"day": DAY_NAMES[w.day], "from": _hhmm(w.start), "to": _hhmm(w.end)} for w in windows])


def from_json(text: str) -> list[Window]:
    """The stored windows; anything unexpected reads as none (= working hours), never as a crash."""
    try:
        rows = json.loads(text or "[]")
        return [Window(DAY_NAMES.index(r["day"]), _minutes(r["from"]), _minutes(r["to"])) for r in rows]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


def describe(windows: list[Window]) -> str:
    """"Tue, Thu until 12:00; Fri 14:00–16:00": what we understood, for the PROFILE answer."""
    if not windows:
        return "any working day, working hours"
    spans: dict[tuple[int | None, int | None], list[int]] = {}
    for w in windows:
        spans.setdefault((w.start, w.end), []).append(w.day)
    return "; ".join(f"{', '.join(DAY_NAMES[d] for d in days)} {_span(start, end)}"
                     for (start, end), days in spans.items())


def _span(start: int | None, end: int | None) -> str:
    if start is None and end is None:
        return "working hours"
    if start is None:
        return f"until {_hhmm(end)}"
    return f"from {_hhmm(start)}" if end is None else f"{_hhmm(start)}–{_hhmm(end)}"


def _hhmm(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int | None:
    if not text:
        return None
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
