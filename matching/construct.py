"""A fast random first pairing, good enough that little repair is left to do.

Organisations are taken largest first (ties in random order, members in
random order), and each person still free is paired with a random free
person, retrying up to :data:`DRAWS` draws to find a pair that costs nothing
(new, and from another organisation). Taking the largest organisation first
keeps a 40% organisation from ending up paired with itself: its members claim
partners from everyone else while everyone else is still free, and only
then, when the organisation holds more than half, pair among themselves.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from random import Random

from matching.costs import PairCost

DRAWS = 24


@dataclass(frozen=True, slots=True)
class Start:
    """A first matching: ``mate[i]`` is i's partner (-1 if left out), its
    total cost, and one member of each pair that costs something."""

    mate: list[int]
    total: int
    costly: list[int]


def largest_first(people: Sequence[int], orgs: Sequence[int], rng: Random) -> list[int]:
    """``people`` grouped by organisation, largest first, each group in random order."""
    groups: dict[int, list[int]] = {}
    for i in people:
        groups.setdefault(orgs[i], []).append(i)
    ranked = sorted(groups, key=lambda org: (-len(groups[org]), rng.random()))
    order: list[int] = []
    for org in ranked:
        members = groups[org]
        rng.shuffle(members)
        order += members
    return order


def greedy_mates(order: Sequence[int], size: int, cost: PairCost, orgs: Sequence[int],
                 rng: Random) -> Start:
    """Pair up ``order`` (of even length, largest organisation first) greedily,
    in that order, with random partners.

    The largest organisation's members draw from everyone else while anyone
    else is free, then from each other (where a new pair is the best there is).
    """
    mate, rand, total, costly = [-1] * size, rng.random, 0, []
    largest = orgs[order[0]] if order else -1
    own = Pool([i for i in order if orgs[i] == largest], size)
    rest = Pool([i for i in order if orgs[i] != largest], size)
    for i in order:
        if mate[i] >= 0:
            continue
        mine = own if orgs[i] == largest else rest
        mine.remove(i)
        theirs, least = (rest, 0) if rest.members else (own, 1)
        j, c = theirs.draw(i, cost, rand, least)
        theirs.remove(j)
        mate[i], mate[j] = j, i
        if c:
            total += c
            costly.append(i)
    return Start(mate, total, costly)


class Pool:
    """The free people of a group, with O(1) removal and random draws."""

    def __init__(self, members: list[int], size: int) -> None:
        self.members = members
        self._where = [0] * size
        for k, i in enumerate(members):
            self._where[i] = k

    def remove(self, i: int) -> None:
        members, where = self.members, self._where
        last = members.pop()
        if last != i:
            members[where[i]], where[last] = last, where[i]

    def draw(self, i: int, cost: PairCost, rand: Callable[[], float],
             least: int) -> tuple[int, int]:
        """A random partner for i and its cost: the first drawn that costs
        ``least`` or less, else the cheapest of :data:`DRAWS` draws."""
        members = self.members
        best, best_cost, size = -1, -1, len(members)
        for _ in range(DRAWS):
            j = members[int(rand() * size)]
            c = cost(i, j)
            if c <= least:
                return j, c
            if best < 0 or c < best_cost:
                best, best_cost = j, c
        return best, best_cost
