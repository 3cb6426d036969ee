"""A fast random first pairing, good enough that little repair is left to do.

Organisations are taken largest first (ties in random order, members
shuffled), and each person still free is paired with a random free person,
retrying a few draws to find a pair that costs nothing (new and from another
organisation). Taking the largest organisation first is what keeps a 40%
organisation from ending up paired with itself: its members claim partners
from everyone else while everyone else is still free.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from random import Random

from matching.costs import PairCost

DRAWS = 24


def largest_first(people: Sequence[int], orgs: Sequence[int], rng: Random) -> list[int]:
    """``people`` grouped by organisation, largest first, each group shuffled."""
    members: dict[int, list[int]] = {}
    for i in people:
        members.setdefault(orgs[i], []).append(i)
    blocks = sorted(members.values(), key=lambda block: (-len(block), rng.random()))
    for block in blocks:
        rng.shuffle(block)
    return [i for block in blocks for i in block]


def greedy_mates(order: Sequence[int], size: int, cost: PairCost, rng: Random) -> list[int]:
    """Pair up ``order`` (of even length) greedily; ``mate[i]`` is i's partner, -1 if unused."""
    mate = [-1] * size
    pool = list(order)
    where = [0] * size
    for k, i in enumerate(pool):
        where[i] = k
    for i in order:
        if mate[i] < 0:
            _take(pool, where, i)
            j = _draw(i, pool, cost, rng.random)
            _take(pool, where, j)
            mate[i], mate[j] = j, i
    return mate


def _take(pool: list[int], where: list[int], i: int) -> None:
    """Remove i from ``pool`` in O(1) by moving the last element into its slot."""
    last = pool.pop()
    if last != i:
        pool[where[i]] = last
        where[last] = where[i]


def _draw(i: int, pool: Sequence[int], cost: PairCost, rand: Callable[[], float]) -> int:
    """A random partner for i from ``pool``: the first free one drawn, else the cheapest drawn."""
    best, best_cost = -1, -1
    size = len(pool)
    for _ in range(DRAWS):
        j = pool[int(rand() * size)]
        c = cost(i, j)
        if c == 0:
            return j
        if best < 0 or c < best_cost:
            best, best_cost = j, c
    return best
