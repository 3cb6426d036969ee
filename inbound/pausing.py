"""What "PAUSE", "PAUSE 3" and "PAUSE until 1 Feb" ask for (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
MAX_ROUNDS = 24


@dataclass(frozen=True)
class PauseRequest:
    rounds: int | None = None
    until: date | None = None


def parse_pause(args: str, today: date) -> PauseRequest | None:
    """None when the words after PAUSE are not understood (the caller says how to write them)."""
    text = " ".join(args.lower().replace(",", " ").split())
    if not text:
        return PauseRequest()
    if match := re.fullmatch(r"(?:for\s+)?(\d{1,2})(?:\s+rounds?|\s+months?)?", text):
        return PauseRequest(rounds=min(max(int(match.group(1)), 1), MAX_ROUNDS))
    if match := re.fullmatch(r"(?:until|till|til|to)\s+(.+)", text):
        day = parse_day(match.group(1), today)
        return PauseRequest(until=day) if day and day > today else None
    return None


def parse_day(text: str, today: date) -> date | None:
    """"1 Feb", "February 1st", "1/2/2027" (UK order), "2027-02-01", or a month alone ("March": its
    first day); without a year, the next such day."""
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().rstrip("."))
    patterns = (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: (int(m[1]), int(m[2]), int(m[3]))),
        (r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", lambda m: (_year(m[3]), int(m[2]), int(m[1]))),
        (r"(\d{1,2})\s+([a-z]+)(?:\s+(\d{4}))?", lambda m: (_year(m[3]), MONTHS.get(m[2][:3], 0), int(m[1]))),
        (r"([a-z]+)\s+(\d{1,2})(?:\s+(\d{4}))?", lambda m: (_year(m[3]), MONTHS.get(m[1][:3], 0), int(m[2]))),
        (r"(?:the\s+)?(?:start\s+of\s+)?([a-z]+)(?:\s+(\d{4}))?", lambda m: (_year(m[2]), MONTHS.get(m[1][:3], 0), 1)),
    )
    for pattern, pick in patterns:
        if match := re.fullmatch(pattern, text):
            year, month, day = pick(match)
            return _valid(year or today.year, month, day, today, explicit_year=bool(year))
    return None


def _year(text: str | None) -> int:
    if not text:
        return 0
    return int(text) + 2000 if len(text) == 2 else int(text)


def _valid(year: int, month: int, day: int, today: date, explicit_year: bool) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not explicit_year and found <= today:
        found = date(year + 1, month, day) if not (month == 2 and day == 29) else found
    return found
