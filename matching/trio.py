"""Turning the odd person of an odd-sized round into the third member of a pair.

The matching already chose who takes the odd role (the dummy's partner, among
the people with the fewest odd turns), optimising the pairs without the trio's
extra edges. The extra then joins the pair where the two new edges cost least.

When that join costs something and the group is small enough for exhaustive
repair, every other choice (extra y, host pair a-b) is checked too, so the
result is optimal: the repaired matching's cost is a lower bound on the pairs
of any choice of extra, which prunes all but a few options.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from random import Random

from matching.costs import PairCost
from matching.problem import Problem, matching_cost, pinned
from matching.solve import EXHAUSTIVE_LIMIT, repair


@dataclass(frozen=True, slots=True)
class Trio:
    """The extra member (a position) and the pair it joins."""

    extra: int
    host: tuple[int, int]


def place_trio(problem: Problem, mate: list[int], rng: Random) -> tuple[list[int], Trio]:
    """The matching (possibly changed) and where its odd person goes."""
    dummy = problem.dummy
    assert dummy is not None
    extra = mate[dummy]
    join_cost, host = cheapest_host(problem.cost, mate, extra, rng)
    if join_cost == 0 or problem.size > EXHAUSTIVE_LIMIT:
        return mate, Trio(extra, host)
    floor = matching_total(matching_cost(problem), mate)
    return best_trio(problem, mate, rng, floor, (floor + join_cost, mate, Trio(extra, host)))


def cheapest_host(cost: PairCost, mate: list[int], extra: int, rng: Random) -> tuple[int, tuple[int, int]]:
    """The pair (scanned from a random start) that ``extra`` joins most cheaply."""
    size, dummy = len(mate), len(mate) - 1
    start = rng.randrange(size)
    best: tuple[int, tuple[int, int]] | None = None
    for a in [*range(start, size), *range(start)]:
        b = mate[a]
        if a < b != dummy:
            join = cost(extra, a) + cost(extra, b)
            if best is None or join < best[0]:
                best = (join, (a, b))
                if join == 0:
                    break
    assert best is not None
    return best


def best_trio(problem: Problem, mate: list[int], rng: Random, floor: int,
              best: tuple[int, list[int], Trio]) -> tuple[list[int], Trio]:
    """The cheapest (extra, host) over all options whose lower bound beats ``best``."""
    cost, dummy, forbidden = problem.cost, problem.size - 1, problem.weights.forbidden
    for y, a, b in trio_options(problem, rng):
        join = cost(y, a) + cost(y, b)
        if floor + join >= best[0]:
            continue
        pins = {dummy: y, y: dummy, a: b, b: a}
        pinned_cost = pinned(matching_cost(problem), pins, forbidden)
        forced = force(force(mate, dummy, y), a, b)
        total = matching_total(pinned_cost, forced) - repair(forced, pinned_cost, rng) + join
        if total < best[0]:
            best = (total, forced, Trio(y, (a, b)))
    return best[1], best[2]


def trio_options(problem: Problem, rng: Random) -> Iterator[tuple[int, int, int]]:
    """Every eligible extra with every pair of the others, in random order."""
    people = range(len(problem.ids))
    options = [(y, a, b) for y in people if problem.eligible[y]
               for a, b in combinations(people, 2) if y not in (a, b)]
    rng.shuffle(options)
    return iter(options)


def force(mate: list[int], u: int, v: int) -> list[int]:
    """A copy of ``mate`` with u and v paired and their old partners paired together."""
    forced = list(mate)
    old_u, old_v = forced[u], forced[v]
    if old_u != v:
        forced[u], forced[v], forced[old_u], forced[old_v] = v, u, old_v, old_u
    return forced


def matching_total(cost: PairCost, mate: list[int]) -> int:
    """The summed cost of the matching's pairs."""
    return sum(cost(a, b) for a, b in enumerate(mate) if a < b)
