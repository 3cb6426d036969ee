"""A fast random first pairing, good enough that little repair is left to do.

Organisations are taken largest first (ties in random order, members in
random order), and each person still free is paired with a random free
person, retrying up to :data:`DRAWS` draws to find a pair that costs nothing
(new, and from another organisation). Taking the largest organisation first
keeps a 40% organisation from ending up paired with itself: its members claim
partners from everyone else while everyone else is still free.
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
    sizes: dict[int, int] = {}
    for i in people:
        sizes[orgs[i]] = sizes.get(orgs[i], 0) + 1
    ranked = sorted(sizes, key=lambda org: (-sizes[org], rng.random()))
    rank = {org: float(k) for k, org in enumerate(ranked)}
    rand = rng.random
    keys = {i: rank[orgs[i]] + rand() for i in people}
    return sorted(people, key=keys.__getitem__)


def greedy_mates(order: Sequence[int], size: int, cost: PairCost, rng: Random) -> Start:
    """Pair up ``order`` (of even length) greedily, in that order, with random partners."""
    mate, pool, where = [-1] * size, list(order), [0] * size
    for k, i in enumerate(pool):
        where[i] = k
    rand, total, costly = rng.random, 0, []
    for i in order:
        if mate[i] >= 0:
            continue
        last = pool.pop()
        if last != i:
            pool[where[i]], where[last] = last, where[i]
        j, c = _draw(i, pool, cost, rand)
        last = pool.pop()
        if last != j:
            pool[where[j]], where[last] = last, where[j]
        mate[i], mate[j] = j, i
        if c:
            total += c
            costly.append(i)
    return Start(mate, total, costly)


def _draw(i: int, pool: Sequence[int], cost: PairCost,
          rand: Callable[[], float]) -> tuple[int, int]:
    """A random partner for i from ``pool`` and its cost: the first free one
    drawn, else the cheapest of :data:`DRAWS` draws."""
    best, best_cost, size = -1, -1, len(pool)
    for _ in range(DRAWS):
        j = pool[int(rand() * size)]
        c = cost(i, j)
        if c == 0:
            return j, 0
        if best < 0 or c < best_cost:
            best, best_cost = j, c
    return best, best_cost
