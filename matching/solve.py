"""A minimum-cost perfect matching: greedy start, then cycle repair.

Up to :data:`EXHAUSTIVE_LIMIT` vertices the repair is exhaustive and the
matching optimal. Above it, each step of the search tries
:data:`SAMPLE` random partners, walks at most :data:`DEPTH` pairs deep and
gives up after :data:`BUDGET` nodes per starting pair.
"""
from __future__ import annotations

from random import Random

from matching.construct import greedy_mates, largest_first
from matching.costs import PairCost
from matching.improve import Candidates, CycleSearch
from matching.problem import Problem, matching_cost

EXHAUSTIVE_LIMIT = 24
SAMPLE = 24
DEPTH = 3
BUDGET = 2_000


def solve(problem: Problem, rng: Random) -> list[int]:
    """A perfect matching of the problem's vertices as a mate list."""
    mate = first_matching(problem, rng)
    repair(mate, matching_cost(problem), rng)
    return mate


def first_matching(problem: Problem, rng: Random) -> list[int]:
    """The greedy start; with an odd count, a random eligible person takes the dummy."""
    people = range(len(problem.ids))
    order = largest_first(people, problem.orgs, rng)
    dummy = problem.dummy
    if dummy is None:
        return greedy_mates(order, problem.size, problem.cost, rng)
    odd_one = rng.choice([i for i in people if problem.eligible[i]])
    order.remove(odd_one)
    mate = greedy_mates(order, problem.size, problem.cost, rng)
    mate[odd_one], mate[dummy] = dummy, odd_one
    return mate


def repair(mate: list[int], cost: PairCost, rng: Random) -> int:
    """Improve ``mate`` in place; the total gain."""
    size = len(mate)
    exhaustive = size <= EXHAUSTIVE_LIMIT
    search = CycleSearch(
        mate, cost, candidates(size, rng, exhaustive),
        max_depth=size if exhaustive else DEPTH,
        budget=None if exhaustive else BUDGET,
    )
    return search.run(range(size))


def candidates(size: int, rng: Random, exhaustive: bool) -> Candidates:
    """Everyone in a random order when exhaustive, else a fresh random sample per step."""
    if exhaustive:
        everyone = list(range(size))
        rng.shuffle(everyone)
        return lambda _: everyone
    rand = rng.random
    return lambda _: [int(rand() * size) for _ in range(SAMPLE)]
