"""The entry point: one round's groups from people, history and a seed."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from random import Random
from typing import Literal

from matching.exact import EXACT_LIMIT, solve_exact
from matching.groups import make_bigger_groups
from matching.history import History
from matching.model import Grouping, PastPair, Person
from matching.plan import Plan
from matching.problem import Problem, build_problem
from matching.solve import solve_heuristic
from matching.together import PLACES_FROM, solve_with_places

OddMode = Literal["trio", "sit_out"]


def make_groups(people: Sequence[Person], history: History | Iterable[PastPair], seed: int,
                odd: OddMode = "trio", size: int = 2) -> Grouping:
    """Group everyone in ``people`` for one round (see the package docstring)."""
    if odd not in ("trio", "sit_out"):
        raise ValueError(f"odd must be 'trio' or 'sit_out', not {odd!r}")
    if size not in (2, 3, 4):
        raise ValueError(f"size must be 2, 3 or 4, not {size!r}")
    index = history if isinstance(history, History) else History(history)
    if size > 2:
        return make_bigger_groups(people, index, seed, size, odd == "sit_out")
    problem = build_problem(people, index)
    rng = Random(seed)
    people_count = len(problem.ids)
    if people_count < 2:
        return alone(problem)
    if people_count <= EXACT_LIMIT:
        return assemble(problem, solve_exact(problem, rng, odd == "trio"))
    if people_count > PLACES_FROM and problem.terms is not None and any(problem.terms.seeker):
        return assemble(problem, solve_with_places(problem, index, rng, odd == "trio"))
    return assemble(problem, solve_heuristic(problem, rng, odd == "trio"))


def alone(problem: Problem) -> Grouping:
    """Nobody, or one person who sits out whatever the mode."""
    sitter = problem.ids[0] if problem.ids else None
    return Grouping((), sitter, None, problem.weights.decode(0))


def assemble(problem: Problem, plan: Plan) -> Grouping:
    """Ids, sorted groups and the score of a plan."""
    ids = problem.ids
    groups: list[tuple[int, ...]] = [(ids[a], ids[b]) if a < b else (ids[b], ids[a])
                                     for a, b in plan.pairs]
    sitter = extra = None
    if plan.odd_one is not None and plan.host is None:
        sitter = ids[plan.odd_one]
    elif plan.odd_one is not None and plan.host is not None:
        extra = ids[plan.odd_one]
        host = tuple(sorted(ids[i] for i in plan.host))
        groups[groups.index(host)] = tuple(sorted((*host, extra)))
    groups.sort()
    return Grouping(tuple(groups), sitter, extra, problem.weights.decode(plan.cost),
                    () if extra is None else (extra,))
