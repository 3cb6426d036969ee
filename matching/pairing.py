"""The entry point: one round's groups from people, history and a seed."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from random import Random
from typing import Literal

from matching.history import History
from matching.model import Grouping, PastPair, Person
from matching.problem import Problem, build_problem
from matching.solve import solve
from matching.trio import Trio, place_trio

OddMode = Literal["trio", "sit_out"]


def make_groups(people: Sequence[Person], history: History | Iterable[PastPair], seed: int,
                odd: OddMode = "trio") -> Grouping:
    """Pair everyone in ``people`` for one round (see the package docstring)."""
    if odd not in ("trio", "sit_out"):
        raise ValueError(f"odd must be 'trio' or 'sit_out', not {odd!r}")
    index = history if isinstance(history, History) else History(history)
    problem = build_problem(people, index)
    rng = Random(seed)
    if len(problem.ids) < 2:
        return alone(problem, rng)
    mate = solve(problem, rng)
    trio = None
    if problem.dummy is not None and odd == "trio":
        mate, trio = place_trio(problem, mate, rng)
    return assemble(problem, mate, trio)


def alone(problem: Problem, rng: Random) -> Grouping:
    """Nobody, or one person who sits out whatever the mode."""
    sitter = problem.ids[0] if problem.ids else None
    return Grouping((), sitter, None, problem.weights.decode(0))


def assemble(problem: Problem, mate: list[int], trio: Trio | None) -> Grouping:
    """Ids, sorted groups and the score of a finished matching."""
    ids, cost, people = problem.ids, problem.cost, len(problem.ids)
    pairs = [(a, b) for a, b in enumerate(mate) if a < b < people]
    total = sum(cost(a, b) for a, b in pairs)
    groups = [(ids[a], ids[b]) for a, b in pairs]
    sitter = extra = None
    if problem.dummy is not None:
        odd_one = mate[problem.dummy]
        if trio is None:
            sitter = ids[odd_one]
        else:
            extra = ids[trio.extra]
            host = (ids[trio.host[0]], ids[trio.host[1]])
            groups[groups.index(host)] = tuple(sorted((*host, extra)))
            total += cost(trio.extra, trio.host[0]) + cost(trio.extra, trio.host[1])
    return Grouping(tuple(sorted(groups)), sitter, extra, problem.weights.decode(total))
