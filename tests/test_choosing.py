"""Which offered time a reply in a group's thread picks (pure): inbound/choosing.py through find_command."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from inbound.choosing import argument, choice
from inbound.commands import find_command
from inbound.itip import MAX_SEQUENCE, calendar_reply
from tests.test_calendar_replies import outlook

BOOKS = {
    "2": "2", "2.": "2", "3!": "3", "#2": "2", "2 please": "2", "Option 2 works": "2", "option 2": "2",
    "Option 2 please": "2", "2 works for me, see you then!": "2", "2 works for me": "2", "2 suits me": "2",
    "2 - see you then": "2", "2 is perfect, thanks!": "2", "Option 2 works for us both.": "2",
    "Option 1 looks good": "1", "Let's go with option 3": "3", "I'll take 1": "1",
    "Tuesday is good": "Tuesday", "Tuesday works for me": "Tuesday", "Tue is fine": "Tuesday",
    "happy with Thursday": "Thursday", "Thursday for me": "Thursday",
}
CHAT = ["I have 2 kids", "see you at 2pm", "2pm works", "2 of us can make it", "1, 2 or 3 all work", "1 or 2?", "2?",
        "Tuesday is good but what time?", "2-3pm is good", "Tuesday I'm off", "Tuesdays are busy",
        "3 weeks from now works", "2 hours is too long", "Option 2 or 3", "10", "0", "2:30 works", "2.30 works",
        "Monday morning works better for me", "Option 2 or 3 both work", "2nd works", "Does Tuesday work?"]


@pytest.mark.parametrize("line, picked", BOOKS.items())
def test_a_reply_that_opens_with_a_choice_books_it(line: str, picked: str) -> None:
    assert choice(line) == picked
    found = find_command("Re: Coffee Roulette: meet Sam and Kim", f"Hi both,\n\n{line}\n\nSam", chat=True)
    assert found is not None and (found.name, found.args, found.said) == ("BOOK", picked, True)


@pytest.mark.parametrize("line", CHAT)
def test_chat_that_mentions_a_number_or_a_day_is_not_a_choice(line: str) -> None:
    assert choice(line) is None
    found = find_command("Re: Coffee Roulette: meet Sam and Kim", line, chat=True)
    assert found is None or found.name != "BOOK"


def test_a_choice_counts_only_in_a_group_thread_or_as_a_command() -> None:
    assert find_command("Re: Welcome", "2") is None, "'2' to our own address is not a booking"
    found = find_command("BOOK 2", "")
    assert found is not None and (found.name, argument(found.args), found.said) == ("BOOK", "2", False)
    found = find_command("Re: meet Kim", "RESCHEDULE 3 please", chat=True)
    assert found is not None and (found.name, argument(found.args)) == ("RESCHEDULE", "3")
    assert find_command("Re: meet Kim", "Book a table at the café for us?", chat=True) is None


@given(st.text(max_size=60))
def test_a_question_never_books(text: str) -> None:
    assert choice(text.replace("\n", " ") + "?") is None


@given(st.integers(min_value=10, max_value=10**6), st.sampled_from(["", " works", " is good", "!"]))
def test_only_one_digit_options_exist(number: int, tail: str) -> None:
    assert choice(f"{number}{tail}") is None


def test_a_hostile_calendar_reply_is_bounded() -> None:
    found = calendar_reply(outlook("h1", "u" * 5000 + "@example.org", "<i@example.org>", 10**15))
    assert found is not None
    [answer] = found.answers
    assert answer.sequence == MAX_SEQUENCE and len(answer.uid) == 200
