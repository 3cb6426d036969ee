"""The days no round step falls on: a region's public holidays plus the organiser's own.

`rounds.holidays` names the region as an ISO code ("GB-ENG", "GB-SCT", "IE", "US-CA");
the python-holidays package knows the rules, observed days included (Boxing Day on a
Saturday moves to Monday). `rounds.closed_days` adds dates such as an office's
Christmas shutdown: "2026-12-24, 2026-12-29 to 2026-12-31".
"""
from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rounds.holiday_cache import HolidayCache, PublicHolidays
from rounds.schedule import Calendar

MAX_RANGE_DAYS = 366


class ClosedDaysError(ValueError):
    """A region or a list of dates we cannot read; the message says what to write."""


class ClosedDays(Container[date]):
    """Public holidays (looked up lazily, year by year) and a fixed set of extra dates."""

    def __init__(self, public: Any, extra: frozenset[date]) -> None:
        self._public, self._extra = public, extra

    def __contains__(self, day: object) -> bool:
        return day in self._extra or (self._public is not None and day in self._public)


def check_region(region: str, cache: HolidayCache | None = None) -> tuple[str, str | None] | None:
    """(country, subdivision) for a region such as GB-ENG, None for "", or ClosedDaysError.

    Only the library's list is read, not a country's rules: building those costs about
    60 ms, which only the commands that work out a schedule should pay. With a `cache`
    that remembers the region as valid, not even that (the list costs 100-150 ms).
    """
    region = region.strip()
    if not region:
        return None
    country, _, subdivision = region.upper().partition("-")
    if cache is not None and cache.remembered():
        return country, subdivision or None
    import holidays  # 40 ms, and only needed where a region is set

    known = holidays.list_supported_countries()
    if country not in known:
        raise ClosedDaysError(f"{region!r}: no country {country!r}; use a code such as GB-ENG, GB-SCT, IE or US-CA")
    if subdivision and subdivision not in known[country]:
        choices = ", ".join(f"{country}-{s}" for s in known[country][:8])
        raise ClosedDaysError(f"{region!r}: {country} has no region {subdivision!r}; use one of {choices}")
    if cache is not None:
        cache.remember()
    return country, subdivision or None


def public_holidays(region: str, cache_folder: Path | None = None) -> Any:
    """The holidays of a region such as GB-ENG, or None for an empty region. With a `cache_folder`
    (the data folder), they are remembered there between runs, year by year (rounds.holiday_cache)."""
    cache = HolidayCache(cache_folder, region) if cache_folder is not None else None
    checked = check_region(region, cache)
    if checked is None:
        return None
    country, subdivision = checked
    if cache is None:
        import holidays

        return holidays.country_holidays(country, subdiv=subdivision)
    return PublicHolidays(cache, lambda year: holidays_of(country, subdivision, year))


def holidays_of(country: str, subdivision: str | None, year: int) -> list[date]:
    import holidays

    return list(holidays.country_holidays(country, subdiv=subdivision, years=year))


def parse_closed_days(text: str) -> frozenset[date]:
    """Dates and ranges, comma-separated: "2026-12-24, 2026-12-29 to 2026-12-31"."""
    days: set[date] = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        first, _, last = (p.strip() for p in item.partition(" to "))
        try:
            start, end = date.fromisoformat(first), date.fromisoformat(last or first)
        except ValueError:
            raise ClosedDaysError(f"{item!r} is not a date or range; write 2026-12-24 or 2026-12-29 to 2026-12-31") from None
        if not 0 <= (end - start).days < MAX_RANGE_DAYS:
            raise ClosedDaysError(f"{item!r}: a range runs forwards and is shorter than a year")
        days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(days)


def calendar_for(region: str, closed_days: str, cache_folder: Path | None = None) -> Calendar:
    return Calendar(ClosedDays(public_holidays(region, cache_folder), parse_closed_days(closed_days)))
