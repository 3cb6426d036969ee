"""How easily two people can meet: the three lowest tiers of the score.

Below repeats and same-organisation pairs, each pair inside a group is charged:

* ``mode_clash``: one of them meets only in person and the other cannot
  meet them there: the other meets only online, or both places are known
  and differ (two in-person-only people in Leeds and Bristol);
* ``no_overlap``: both said when they are free and no hour of the week
  fits both;
* ``in_person_missed``: for each of the two who would meet in person
  ("in_person" or "either") and shares a place with another such person
  this round, one when this pair is not two of them in the same place.
  Summed over a grouping it counts the people who could have met someone
  from their own place in person and did not, so minimising it puts such
  people together.

Someone who states nothing costs nothing: a round where nobody states
anything builds no :class:`MeetingTerms` at all, and the matcher's cost is
exactly the one without these tiers.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from matching.model import Person

ONLINE, IN_PERSON, EITHER = "online", "in_person", "either"
MODES = frozenset({ONLINE, IN_PERSON, EITHER})


def place_key(place: str | None) -> str:
    """The key under which two stated places count as the same: case, spacing and
    trailing punctuation ignored ("Leeds ", "leeds." and "LEEDS" are one place)."""
    return " ".join((place or "").split()).strip(" .,;").casefold()


def mode_key(mode: str | None) -> str:
    """A stored meeting mode as the matcher reads it: one of :data:`MODES`, else "" (no preference)."""
    value = (mode or "").strip().casefold().replace("-", "_").replace(" ", "_")
    return value if value in MODES else ""


def states_something(person: Person) -> bool:
    return bool(person.slots or person.mode or person.place)


@dataclass(frozen=True, slots=True)
class MeetingTerms:
    """Per position (people numbered as in the matcher's problem): free hours as a
    bitmask (0 = any time), mode, place and whether they seek an in-person match."""

    slots: list[int]
    mode: list[str]
    place: list[str]
    seeker: list[bool]

    @classmethod
    def of(cls, roster: Sequence[Person]) -> MeetingTerms | None:
        """The terms of a round's people in this order, or None when nobody states anything."""
        if not any(map(states_something, roster)):
            return None
        mode = [p.mode if p.mode in MODES else "" for p in roster]
        place = [p.place for p in roster]
        willing = [m in (IN_PERSON, EITHER) and bool(where) for m, where in zip(mode, place)]
        shared = Counter(where for where, w in zip(place, willing) if w)
        seeker = [w and shared[where] > 1 for w, where in zip(willing, place)]
        return cls([mask(p.slots) for p in roster], mode, place, seeker)

    def has_any(self, i: int) -> bool:
        return bool(self.slots[i] or self.mode[i] or self.place[i])

    def charges(self, i: int, j: int) -> tuple[int, int, int]:
        """(mode_clash, no_overlap, in_person_missed) of the pair i, j."""
        a, b = self.slots[i], self.slots[j]
        no_overlap = int(bool(a and b and not a & b))
        same_place = self.place[i] == self.place[j]
        together = self.seeker[i] and self.seeker[j] and same_place
        missed = 0 if together else self.seeker[i] + self.seeker[j]
        return int(self.clash(i, j, same_place)), no_overlap, missed

    def clash(self, i: int, j: int, same_place: bool) -> bool:
        mi, mj = self.mode[i], self.mode[j]
        if mi != IN_PERSON and mj != IN_PERSON:
            return False
        if mi == ONLINE or mj == ONLINE:
            return True
        return bool(self.place[i] and self.place[j]) and not same_place


def mask(slots: frozenset[int]) -> int:
    """The hours of the week as one int, bit h for hour h (hours outside 0..167 ignored)."""
    bits = 0
    for hour in slots:
        if 0 <= hour < 168:
            bits |= 1 << hour
    return bits
