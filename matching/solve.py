"""The fast path for large rounds: randomised greedy start, then cycle repair
down to the cost floor of :mod:`matching.bounds` at best.

With an odd count, the dummy vertex of :mod:`matching.problem` takes part in
the matching, so the repair also chooses who takes the odd role. For a trio,
that person then joins the pair (scanned from a random start) where the two
new pairs cost least; a join costing nothing leaves the grouping as good as
its matching, since the pairs of any trio grouping contain a perfect matching
of everyone but its extra.
"""
from __future__ import annotations

from collections import Counter
from random import Random

from matching.bounds import cost_floor
from matching.construct import Start, greedy_mates, largest_first
from matching.costs import PairCost
from matching.improve import Candidates, CycleSearch
from matching.plan import Plan
from matching.problem import Problem, matching_cost

SAMPLE = 24
DEPTH = 4
BUDGET = 2_000
FULL_SCAN = 400


def solve_heuristic(problem: Problem, rng: Random, trio: bool) -> Plan:
    """A good plan in near-linear time."""
    start = first_matching(problem, rng)
    mate = start.mate
    floor = cost_floor(problem)
    total = start.total - repair(mate, matching_cost(problem), rng, start, floor)
    people = len(problem.ids)
    pairs = [(a, b) for a, b in enumerate(mate) if a < b < people]
    if problem.dummy is None:
        return Plan(pairs, None, None, total)
    odd_one = mate[problem.dummy]
    if not trio:
        return Plan(pairs, odd_one, None, total)
    join, host = cheapest_host(problem.cost, pairs, odd_one, rng)
    return Plan(pairs, odd_one, host, total + join)


def first_matching(problem: Problem, rng: Random) -> Start:
    """The greedy start; with an odd count, a random eligible person takes the dummy
    (see :func:`odd_candidates`)."""
    people = range(len(problem.ids))
    order = largest_first(people, problem.orgs, rng)
    dummy = problem.dummy
    if dummy is None:
        return greedy_mates(order, problem.size, problem.cost, problem.orgs, rng)
    odd_one = rng.choice(odd_candidates(problem))
    order.remove(odd_one)
    start = greedy_mates(order, problem.size, problem.cost, problem.orgs, rng)
    start.mate[odd_one], start.mate[dummy] = dummy, odd_one
    return start


def odd_candidates(problem: Problem) -> list[int]:
    """Who may take the dummy at the start: the eligible, and among them the
    members of an organisation holding more than half, if any (taking one of
    them out of the matching saves a same-organisation pair)."""
    eligible = [i for i in range(len(problem.ids)) if problem.eligible[i]]
    largest, size = Counter(problem.orgs).most_common(1)[0]
    if 2 * size > len(problem.ids):
        preferred = [i for i in eligible if problem.orgs[i] == largest]
        return preferred or eligible
    return eligible


def repair(mate: list[int], cost: PairCost, rng: Random, start: Start, floor: int) -> int:
    """Improve ``mate`` in place, from the start's costly pairs down to at most
    ``floor``; the total gain.

    Up to :data:`FULL_SCAN` vertices every vertex is a candidate at every
    step and walks may be as long as the matching; above, candidates are
    sampled and walks are at most :data:`DEPTH` pairs long.
    """
    size = len(mate)
    if start.total <= floor:
        return 0
    if size <= FULL_SCAN:
        candidates, depth = everyone(size, rng), size
    else:
        candidates, depth = sampler(size, rng), DEPTH
    search = CycleSearch(mate, cost, candidates, depth, BUDGET, start.total, floor)
    return search.run(start.costly)


def sampler(size: int, rng: Random) -> Candidates:
    """A fresh random sample of vertices for each step of the search."""
    rand = rng.random
    return lambda _: [int(rand() * size) for _ in range(SAMPLE)]


def everyone(size: int, rng: Random) -> Candidates:
    """All vertices, in one random order."""
    order = list(range(size))
    rng.shuffle(order)
    return lambda _: order


def cheapest_host(cost: PairCost, pairs: list[tuple[int, int]], extra: int,
                  rng: Random) -> tuple[int, tuple[int, int]]:
    """The join cost and the pair that ``extra`` joins most cheaply, taking the
    first free one from a random start."""
    start = rng.randrange(len(pairs))
    best, best_cost = pairs[start], -1
    for a, b in pairs[start:] + pairs[:start]:
        join = cost(extra, a) + cost(extra, b)
        if best_cost < 0 or join < best_cost:
            best, best_cost = (a, b), join
            if join == 0:
                break
    return best_cost, best
