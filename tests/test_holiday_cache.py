"""Public holidays remembered in the data folder (rounds.holiday_cache): the same days as the library's."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

import config
from rounds.closed_days import holidays_of
from rounds.holiday_cache import FILE_NAME, HolidayCache, PublicHolidays

REGIONS = [("GB-ENG", "GB", "ENG"), ("GB-SCT", "GB", "SCT"), ("US-CA", "US", "CA"), ("IE", "IE", None),
           ("DE-BY", "DE", "BY")]


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def never(year: int) -> list[date]:
    raise AssertionError(f"computed {year} again instead of reading the file")


@pytest.mark.parametrize("region, country, subdivision", REGIONS, ids=[r[0] for r in REGIONS])
def test_remembered_holidays_are_the_librarys_day_by_day(tmp_path: Path, region: str, country: str,
                                                         subdivision: str | None) -> None:
    library = holidays.country_holidays(country, subdiv=subdivision)
    span = days(date(2024, 12, 1), date(2031, 1, 31))
    first = PublicHolidays(HolidayCache(tmp_path, region), lambda year: holidays_of(country, subdivision, year))
    assert [d for d in span if d in first] == [d for d in span if d in library]
    again = PublicHolidays(HolidayCache(tmp_path, region), never)
    assert [d for d in span if d in again] == [d for d in span if d in library]


def test_a_file_of_another_library_or_region_is_not_used(tmp_path: Path) -> None:
    boxing_day = date(2026, 12, 28)  # observed, the 26th being a Saturday
    cache = HolidayCache(tmp_path, "GB-ENG", stamp="holidays 1.0")
    assert boxing_day in PublicHolidays(cache, lambda year: holidays_of("GB", "ENG", year))
    assert not HolidayCache(tmp_path, "GB-ENG", stamp="holidays 2.0").remembered()
    assert not HolidayCache(tmp_path, "GB-SCT", stamp="holidays 1.0").remembered()
    scotland = PublicHolidays(HolidayCache(tmp_path, "GB-SCT", stamp="holidays 1.0"),
                              lambda year: holidays_of("GB", "SCT", year))
    assert date(2026, 1, 2) in scotland and date(2026, 1, 2) not in holidays.country_holidays("GB", subdiv="ENG")
    assert json.loads((tmp_path / FILE_NAME).read_text())["region"] == "GB-SCT"


@pytest.mark.parametrize("content", [
    "not json", "[]", '{"library": "holidays 1.0", "region": "GB-ENG", "years": {"2026": ["2027-01-01"]}}',
    '{"library": "holidays 1.0", "region": "GB-ENG", "years": {"2026": "2026-01-01"}}',
    '{"library": "holidays 1.0", "region": "GB-ENG", "years": {"2026": [1]}}',
    '{"library": "holidays 1.0", "region": "GB-ENG", "years": {"2026": []}' + " " * 200_000 + "}",
])
def test_a_file_we_cannot_trust_is_worked_out_again_and_replaced(tmp_path: Path, content: str) -> None:
    (tmp_path / FILE_NAME).write_text(content)
    remembered = PublicHolidays(HolidayCache(tmp_path, "GB-ENG", stamp="holidays 1.0"),
                                lambda year: holidays_of("GB", "ENG", year))
    assert date(2026, 12, 25) in remembered and date(2026, 12, 24) not in remembered
    saved = json.loads((tmp_path / FILE_NAME).read_text())
    assert "2026-12-25" in saved["years"]["2026"] and (tmp_path / FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_no_file_is_made_without_a_data_folder(tmp_path: Path) -> None:
    remembered = PublicHolidays(HolidayCache(tmp_path / "data", "GB-ENG"), lambda year: holidays_of("GB", "ENG", year))
    assert date(2026, 12, 25) in remembered
    assert list(tmp_path.iterdir()) == []


def test_a_valid_region_is_remembered_and_a_wrong_one_is_refused_every_time(tmp_path: Path) -> None:
    raw = {"service": {"data_dir": str(tmp_path)}, "rounds": {"holidays": "GB-SCT"}}
    config.from_mapping(raw, env={})
    assert HolidayCache(tmp_path, "gb-sct ").remembered()
    for _ in range(2):
        with pytest.raises(config.ConfigError, match="GB has no region 'XX'"):
            config.from_mapping(raw | {"rounds": {"holidays": "GB-XX"}}, env={})
    assert not HolidayCache(tmp_path, "GB-XX").remembered()
