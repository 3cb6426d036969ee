"""A region's public holidays, remembered between runs in a small file in the data folder.

Loading python-holidays, checking a region against its list of countries and building a
country's rules costs 150-300 ms, more than the rest of an idle `tick`, which cron runs every
ten minutes. So the file keeps, for the one region set, that it was found valid and its
holidays year by year, computed by the library on first need. It is tied to the installed
library (its dist-info name and modification times): after an upgrade it starts afresh.
Anything odd about the file (missing, unreadable, another library or region) means it is not
used, and rewritten when the data folder allows; it never changes an answer, only its cost.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Callable, Container
from datetime import date, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "holidays.json"
MAX_BYTES = 100_000
MAX_YEARS = 30
log = logging.getLogger(__name__)

Compute = Callable[[int], list[date]]


def library_stamp() -> str | None:
    """Which python-holidays is installed, found without importing it; None if it is not."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    package = Path(spec.origin).parent
    try:
        dist = sorted(p.name for p in package.parent.glob("holidays-*.dist-info"))
        times = [os.stat(path).st_mtime_ns for path in (spec.origin, package / "countries")]
    except OSError:
        return None
    return " ".join([str(package), *dist, *map(str, times)])


class HolidayCache:
    """The file for one region. `remembered` the region is valid, `holidays(year)` its dates."""

    def __init__(self, folder: Path, region: str, stamp: str | None = None) -> None:
        self.path = folder / FILE_NAME
        self.region = region.strip().upper()
        self.stamp = library_stamp() if stamp is None else stamp
        self._years: dict[str, list[str]] | None = None

    def remembered(self) -> bool:
        return self._load() is not None

    def remember(self) -> None:
        """Note that the library accepted the region."""
        self._save(self._load() or {})

    def holidays(self, year: int, compute: Compute) -> frozenset[str]:
        """The ISO dates of `year`'s holidays: from the file, or computed and saved there."""
        years = self._load() or {}
        if str(year) not in years:
            years[str(year)] = sorted(d.isoformat() for d in compute(year) if d.year == year)
            self._save(years)
        return frozenset(years[str(year)])

    def _load(self) -> dict[str, list[str]] | None:
        if self._years is None and self.stamp:
            self._years = _read(self.path, self.stamp, self.region)
        return self._years

    def _save(self, years: dict[str, list[str]]) -> None:
        kept = dict(sorted(years.items())[-MAX_YEARS:])
        self._years = kept
        if not self.stamp or not self.path.parent.is_dir():
            return
        temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}")
        try:
            with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                json.dump({"library": self.stamp, "region": self.region, "years": kept}, file)
            os.replace(temporary, self.path)
        except OSError as exc:
            log.info("public holidays not remembered in %s (%s): the next run works them out again", self.path, exc)


def _read(path: Path, stamp: str, region: str) -> dict[str, list[str]] | None:
    """The years saved for this region by this library, or None when the file is not that."""
    try:
        with path.open("rb") as file:
            data: Any = json.loads(file.read(MAX_BYTES + 1)[:MAX_BYTES])
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("library") != stamp or data.get("region") != region:
        return None
    years = data.get("years")
    if not isinstance(years, dict) or not all(_is_year(k, v) for k, v in years.items()):
        return None
    return years


def _is_year(key: Any, days: Any) -> bool:
    return (isinstance(key, str) and key.isdigit() and isinstance(days, list)
            and all(isinstance(d, str) and d.startswith(key + "-") and len(d) == 10 for d in days))


class PublicHolidays(Container[date]):
    """A region's holidays as `rounds.closed_days.ClosedDays` asks for them, one year at a time."""

    def __init__(self, cache: HolidayCache, compute: Compute) -> None:
        self._cache, self._compute = cache, compute
        self._years: dict[int, frozenset[str]] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if isinstance(day, datetime):
            day = day.date()
        if day.year not in self._years:
            self._years[day.year] = self._cache.holidays(day.year, self._compute)
        return day.isoformat() in self._years[day.year]
