"""Reading when and how people can meet (pure): availability, time zones, meeting mode, plain words."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from inbound.commands import find_command
from meetings.availability import Unreadable, Window, describe, from_json, parse_availability, to_json
from meetings.words import parse_meet_mode, profile_in_words
from meetings.zones import parse_time_zone

H = 60
WELCOME = frozenset({"welcome"})


@pytest.mark.parametrize("text, windows", [
    ("Tue, Thu mornings; Fri 2-4pm", [Window(1, None, 12 * H), Window(3, None, 12 * H), Window(4, 14 * H, 16 * H)]),
    ("mornings are best", [Window(d, None, 12 * H) for d in range(5)]),
    ("Mon-Wed after 2pm", [Window(d, 14 * H, None) for d in range(3)]),
    ("mornings on Tue, afternoons on Thu", [Window(1, None, 12 * H), Window(3, 12 * H, None)]),
    ("Tuesday 9.30-11", [Window(1, 9 * H + 30, 11 * H)]),
    ("Wednesday to Friday, before 11am", [Window(d, None, 11 * H) for d in (2, 3, 4)]),
    ("11-2pm", [Window(d, 11 * H, 14 * H) for d in range(5)]),
    ("Fridays", [Window(4)]),
    ("Tue & Thu, 9 to 5", [Window(1, 9 * H, 17 * H), Window(3, 9 * H, 17 * H)]),
    ("tue,thu 2-4", [Window(1, 14 * H, 16 * H), Window(3, 14 * H, 16 * H)]),
    ("Monday 10am–12", [Window(0, 10 * H, 12 * H)]),
    ("Wednesdays from 10 to 12", [Window(2, 10 * H, 12 * H)]),
    ("between 2 and 4pm on Fridays preferred", [Window(4, 14 * H, 16 * H)]),
])
def test_availability_in_the_words_people_use(text: str, windows: list[Window]) -> None:
    assert parse_availability(text) == windows
    assert from_json(to_json(windows)) == windows


@pytest.mark.parametrize("text, word", [
    ("every day except Friday", "except"), ("mornings (not Mondays)", "not"), ("whenever suits", "whenever"),
    ("Thu 4-2", "4-2"), ("Mon 13pm-2pm", "13"), ("Tuesdya mornings", "tuesdya"),
])
def test_availability_we_cannot_read_names_the_word(text: str, word: str) -> None:
    with pytest.raises(Unreadable) as caught:
        parse_availability(text)
    assert str(caught.value) == word


def test_what_we_understood_is_said_back() -> None:
    assert describe(parse_availability("Tue, Thu mornings; Fri 2-4pm")) == "Tue, Thu until 12:00; Fri 14:00–16:00"
    assert from_json("not json") == [] and from_json('[{"day": "Xyz"}]') == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="montuewdhrifsay0123456789:.-,; apmorningafter", max_size=60))
def test_any_text_reads_as_windows_or_says_why(text: str) -> None:
    try:
        windows = parse_availability(text)
    except Unreadable as exc:
        assert str(exc)
        return
    for w in windows:
        assert 0 <= w.day <= 6
        start, end = w.bounds(9, 17)
        assert 0 <= start and end <= 24 * 60 and (w.start is None or w.end is None or start < end)
    assert from_json(to_json(windows)) == windows


@pytest.mark.parametrize("text, key", [
    ("UK", "Europe/London"), ("London", "Europe/London"), ("CET", "Europe/Paris"), ("europe/paris", "Europe/Paris"),
    ("New York", "America/New_York"), ("UTC", "UTC"), ("Asia/Kolkata", "Asia/Kolkata"), ("uk time", "Europe/London"),
    ("Mars", None), ("", None),
])
def test_time_zones_by_their_common_names(text: str, key: str | None) -> None:
    assert parse_time_zone(text) == key


@pytest.mark.parametrize("text, mode", [
    ("online", "online"), ("In person", "in_person"), ("either", "either"), ("Teams please", "online"),
    ("online, in person or either", "either"), ("face to face", "in_person"), ("whatever", "either"),
    ("blah", None),
])
def test_meeting_mode(text: str, mode: str | None) -> None:
    assert parse_meet_mode(text) == mode


@pytest.mark.parametrize("text, lines", [
    ("mornings are best, I'm in Leeds", ["Available: mornings are best", "Where: Leeds"]),
    ("Mornings are best. I'm based in Newcastle upon Tyne", ["Available: Mornings are best",
                                                             "Where: Newcastle upon Tyne"]),
    ("I prefer in person, I work in Leeds", ["Meet: in person", "Where: Leeds"]),
    ("I'm on UK time", ["Time zone: UK"]),
    ("Thanks, see you soon", []),
    ("I'm in a meeting", []),
    ("I am in London until Friday", []),
    ("Tuesdays are no good", []),
])
def test_a_profile_in_plain_words_or_nothing(text: str, lines: list[str]) -> None:
    assert profile_in_words(text) == lines


@pytest.mark.parametrize("body, command", [
    ("Hi,\n\nMornings are best, I'm in Leeds\n\nThanks,\nSam", "PROFILE"),
    ("Available: Tue mornings\nWhere: Leeds", "PROFILE"),
    ("We met already!", "MET"),
    ("We didn't manage to meet, mornings are best", "NOT MET"),
    ("Met on Tuesday", "MET"),
    ("Thanks, looking forward to it", ""),
])
def test_a_reply_to_the_welcome_that_tells_us_when(body: str, command: str) -> None:
    found = find_command("Re: Welcome to Coffee Roulette", body, WELCOME)
    assert (found.name if found else "") == command


def test_plain_words_elsewhere_are_not_a_profile() -> None:
    """Only the emails that ask for it (the welcome, a PROFILE answer) take an answer without the word PROFILE;
    a group's thread never does."""
    assert find_command("Re: meet Kim", "Mornings are best, I'm in Leeds", frozenset()) is None
    assert find_command("Re: meet Kim", "Mornings are best, I'm in Leeds", WELCOME, chat=True) is None


OUTCOMES = ["We met on Tuesday", "Yes, we met!", "We didn't manage to meet", "Not met - she was on leave", "MET",
            "Sadly we haven't met yet", "We had a lovely chat"]
WHEN = ["mornings are best", "I'm in Leeds", "Tue, Thu mornings", "Available: Fri 2-4pm", "happy to meet online", ""]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OUTCOMES), st.sampled_from(WHEN), st.sampled_from([", ", ". ", "\n", "\n\n"]), st.booleans())
def test_an_outcome_is_never_read_as_a_profile(outcome: str, when: str, joint: str, outcome_first: bool) -> None:
    """Whatever meeting words come with it, a reply that reports an outcome is read as it would be without
    them, in answer to the welcome or not."""
    text = joint.join(filter(None, [outcome, when] if outcome_first else [when, outcome]))
    plain = find_command("Re: Welcome", text, frozenset())
    to_welcome = find_command("Re: Welcome", text, WELCOME)
    if plain is not None and plain.name in ("MET", "NOT MET"):
        assert to_welcome is not None and to_welcome.name == plain.name
    assert to_welcome is None or to_welcome.name != "PROFILE", text
