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
    person has already sat out or been the extra member of a group.

    How they can meet, all optional (see :mod:`matching.meeting`): ``slots``
    are the UTC hours of the week (0 = Monday 00:00) when they are free, empty
    for any time; ``mode`` is "online", "in_person", "either" or ""; ``place``
    is a normalised town or office key (:func:`matching.place_key`).
    """

    id: int
    org: str
    odd_turns: int = 0
    slots: frozenset[int] = frozenset()
    mode: str = ""
    place: str = ""


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
    smallest when the oldest pairs are the ones repeated. The last three
    count pairs that make meeting harder (see :mod:`matching.meeting`); they
    stay 0 when nobody states how they can meet.
    """

    met_repeats: int
    met_repeat_rounds: int
    not_met_repeats: int
    same_org: int
    mode_clash: int = 0
    no_overlap: int = 0
    in_person_missed: int = 0


@dataclass(frozen=True, slots=True)
class Grouping:
    """The result of one round.

    ``groups`` holds pairs and at most one trio, each sorted by id (or, with a
    group size of 3 or 4, groups of that size and the few that must be one
    smaller or larger: see :mod:`matching.groups`). ``extras`` are the members
    who took an odd role inside a group (the trio's extra, the fourth of a
    group of three...), at most one per group. The caller should add one to
    ``odd_turns`` of each of :attr:`odd_ones`.
    """

    groups: tuple[tuple[int, ...], ...]
    sitting_out: int | None
    trio_extra: int | None
    score: Score
    extras: tuple[int, ...] = ()

    @property
    def odd_one(self) -> int | None:
        """Whoever took this round's odd role, if anyone."""
        return self.sitting_out if self.sitting_out is not None else self.trio_extra

    @property
    def odd_ones(self) -> tuple[int, ...]:
        """Everyone who took an odd role this round: the extras, and whoever sits out."""
        return self.extras + (() if self.sitting_out is None else (self.sitting_out,))
