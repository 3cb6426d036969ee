"""Counts in words: every count printed to the organiser or a participant goes through `plural`."""
from __future__ import annotations

IRREGULAR = {"person": "people"}


def noun(count: int, word: str, many: str | None = None) -> str:
    """The form of `word` that goes with `count`: "group" for 1, "groups" for 0 and 2 ("person": "people")."""
    return word if count == 1 else many or IRREGULAR.get(word) or word + "s"


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 group", "0 groups", "2 groups"."""
    return f"{count} {noun(count, word, many)}"
