"""Availability windows to UTC hours of the week (``matching.availability``) and meeting keys."""
from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from matching import mode_key, place_key
from matching.availability import utc_slots

LONDON = ZoneInfo("Europe/London")
WINTER, SUMMER = date(2027, 1, 13), date(2027, 7, 14)


def windows(*items: list[int]) -> str:
    return json.dumps(list(items))


def test_a_monday_morning_in_london_moves_an_hour_with_summer_time() -> None:
    monday_9_to_11 = windows([0, 9 * 60, 11 * 60])
    assert utc_slots(monday_9_to_11, "Europe/London", LONDON, WINTER) == {9, 10}
    assert utc_slots(monday_9_to_11, "Europe/London", LONDON, SUMMER) == {8, 9}


def test_other_zones_and_the_week_wrapping_round() -> None:
    assert utc_slots(windows([1, 9 * 60, 10 * 60]), "America/New_York", LONDON, WINTER) == {24 + 14}
    assert utc_slots(windows([6, 23 * 60, 24 * 60]), "Europe/Berlin", LONDON, WINTER) == {6 * 24 + 22}
    assert utc_slots(windows([0, 8 * 60, 9 * 60]), "Pacific/Auckland", LONDON, WINTER) == {167 - 4}, \
        "Monday 8:00 in Auckland is Sunday 19:00 UTC"


def test_an_hour_counts_when_at_least_half_of_it_is_free() -> None:
    assert utc_slots(windows([2, 9 * 60 + 30, 11 * 60]), "UTC", LONDON, WINTER) == {48 + 9, 48 + 10}
    assert utc_slots(windows([2, 9 * 60 + 40, 10 * 60 + 20]), "UTC", LONDON, WINTER) == set()


def test_no_time_zone_or_an_unknown_one_means_the_services() -> None:
    morning = windows([0, 9 * 60, 10 * 60])
    assert utc_slots(morning, "", ZoneInfo("Asia/Tokyo"), WINTER) == {0}, "9:00 in Tokyo is midnight UTC"
    assert utc_slots(morning, "Mars/Olympus", LONDON, SUMMER) == {8}
    assert utc_slots(morning, "../../etc/passwd", LONDON, SUMMER) == {8}


@pytest.mark.parametrize("stored", [
    "", "not json", "{}", "[[0, 60]]", '[["Mon", 60, 120]]', "[[7, 60, 120]]", "[[0, 120, 60]]",
    "[[0, 0, 1500]]", "[[0, 60.5, 120]]", "[[0, true, 120]]", "[" + "[0, 60, 120], " * 3000 + "[0, 60, 120]]",
])
def test_what_cannot_be_read_means_any_time(stored: str) -> None:
    assert utc_slots(stored, "Europe/London", LONDON, WINTER) == frozenset()


def test_a_bad_window_does_not_spoil_the_good_ones() -> None:
    stored = json.dumps([[0, 540, 600], "tuesday", [9, 1, 2], [4, 840, 900]])
    assert utc_slots(stored, "Europe/London", LONDON, WINTER) == {9, 4 * 24 + 14}


@pytest.mark.parametrize(("stored", "key"), [
    ("in_person", "in_person"), ("In person", "in_person"), ("in-person", "in_person"), ("online", "online"),
    ("EITHER", "either"), ("", ""), ("carrier pigeon", ""),
])
def test_mode_key(stored: str, key: str) -> None:
    assert mode_key(stored) == key


def test_place_key_ignores_case_spacing_and_trailing_punctuation() -> None:
    assert place_key("  Leeds   City Office. ") == place_key("leeds city office") == "leeds city office"
    assert place_key(None) == ""


def test_availability_as_profile_stores_it_is_read_for_the_draw() -> None:
    from meetings.availability import parse_availability, to_json

    stored = to_json(parse_availability("Tue, Thu mornings; Fri 2-4pm"))
    assert utc_slots(stored, "Europe/London", LONDON, WINTER) == {24 + 9, 24 + 10, 24 + 11, 72 + 9, 72 + 10, 72 + 11,
                                                                  96 + 14, 96 + 15}
