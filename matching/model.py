"""Value types shared by the pairing algorithm and its callers.

All of them are immutable; ids are the caller's participant ids (non-negative
ints below 2**32, so that a pair packs into one int key).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Person:
    """An eligible participant.

    ``org`` is the organisation key already resolved by the caller (see
    :func:`matching.organisation_key`). ``odd_turns`` counts how often the
    person has already sat out or been the extra member of a trio.
    """

    id: int
    org: str
    odd_turns: int = 0


@dataclass(frozen=True, slots=True)
class PastPair:
    """One past introduction. ``met=None`` (unconfirmed) counts as met."""

    a: int
    b: int
    round_no: int
    met: bool | None = None


class Score(NamedTuple):
    """What a grouping costs; tuples compare lexicographically, smaller is better.

    ``met_repeat_rounds`` is the sum, over the met repeats, of the round in
    which each pair was last introduced: for a fixed number of repeats it is
    smallest when the oldest pairs are the ones repeated.
    """

    met_repeats: int
    met_repeat_rounds: int
    not_met_repeats: int
    same_org: int


@dataclass(frozen=True, slots=True)
class Grouping:
    """The result of one round.

    ``groups`` holds pairs and at most one trio, each sorted by id. The caller
    should add one to ``odd_turns`` of :attr:`odd_one` (the person sitting out,
    or the extra member of the trio).
    """

    groups: tuple[tuple[int, ...], ...]
    sitting_out: int | None
    trio_extra: int | None
    score: Score

    @property
    def odd_one(self) -> int | None:
        """Whoever took this round's odd role, if anyone."""
        return self.sitting_out if self.sitting_out is not None else self.trio_extra
