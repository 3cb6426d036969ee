"""The exact optimum for small rounds, by dynamic programming over subsets.

``best(mask)`` is the cheapest way to pair up the people in the bitmask: the
lowest person pairs with someone, and the rest is a smaller subproblem.
Always taking the lowest person keeps the reachable subsets few (a Fibonacci
number of them from one starting set), so even twenty people take
milliseconds. The odd cases are a minimum over the choices of the odd role:
who sits out, or which eligible person joins which pair.

Ties are broken with the round's random generator, over options enumerated in
a fixed order, so equal inputs and seed give equal plans.
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from random import Random
from typing import TypeVar

from matching.plan import Plan
from matching.problem import Problem

EXACT_LIMIT = 20
T = TypeVar("T")


def solve_exact(problem: Problem, rng: Random, trio: bool) -> Plan:
    """An optimal plan for the problem (of at most :data:`EXACT_LIMIT` people)."""
    people = len(problem.ids)
    dp = SubsetDP([[problem.cost(i, j) for j in range(people)] for i in range(people)])
    full = (1 << people) - 1
    if people % 2 == 0:
        return Plan(dp.pairs(full, rng), None, None, dp.best(full))
    eligible = [i for i in range(people) if problem.eligible[i]]
    if not trio:
        sitter = _cheapest(((dp.best(full ^ 1 << y), y) for y in eligible), rng)
        rest = full ^ 1 << sitter
        return Plan(dp.pairs(rest, rng), sitter, None, dp.best(rest))
    options = ((dp.trio_cost(y, a, b) + dp.best(full ^ 1 << y ^ 1 << a ^ 1 << b), (y, a, b))
               for y, a, b in _trios(eligible, people))
    y, a, b = _cheapest(options, rng)
    rest = full ^ 1 << y ^ 1 << a ^ 1 << b
    return Plan(dp.pairs(rest, rng) + [(a, b)], y, (a, b), dp.best(rest) + dp.trio_cost(y, a, b))


def _trios(eligible: list[int], people: int) -> Iterator[tuple[int, int, int]]:
    """Every eligible extra with every pair of the others."""
    for y in eligible:
        for a, b in combinations(range(people), 2):
            if y != a and y != b:
                yield y, a, b


def _cheapest(options: Iterator[tuple[int, T]], rng: Random) -> T:
    """A random one among the options of least cost."""
    scored = list(options)
    least = min(cost for cost, _ in scored)
    return rng.choice([option for cost, option in scored if cost == least])


class SubsetDP:
    """Minimum-cost perfect matchings of subsets of a small cost matrix."""

    def __init__(self, cost: list[list[int]]) -> None:
        self.cost = cost
        self.memo: dict[int, int] = {0: 0}

    def trio_cost(self, y: int, a: int, b: int) -> int:
        return self.cost[y][a] + self.cost[y][b] + self.cost[a][b]

    def best(self, mask: int) -> int:
        """The least cost of pairing up everyone in ``mask``."""
        known = self.memo.get(mask)
        if known is None:
            known = min(cost for cost, _ in self._options(mask))
            self.memo[mask] = known
        return known

    def pairs(self, mask: int, rng: Random) -> list[tuple[int, int]]:
        """One optimal pairing of ``mask``, ties broken at random."""
        pairs = []
        while mask:
            i, j = _cheapest(self._options(mask), rng)
            pairs.append((i, j))
            mask ^= 1 << i | 1 << j
        return pairs

    def _options(self, mask: int) -> Iterator[tuple[int, tuple[int, int]]]:
        """(cost, pair) for each partner of the lowest person in ``mask``."""
        low = mask & -mask
        i, rest = low.bit_length() - 1, mask ^ low
        row = self.cost[i]
        while rest:
            bit = rest & -rest
            rest ^= bit
            j = bit.bit_length() - 1
            yield row[j] + self.best(mask ^ low ^ bit), (i, j)
