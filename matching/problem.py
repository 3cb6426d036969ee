"""One round's instance in index space, and the cost views the solvers use.

People are numbered 0..n-1 in ascending id order, so nothing depends on the
caller's ordering or on hash order. With an odd number of people a dummy
vertex ``n`` joins the matching: whoever is paired with it takes the odd role
(sits out, or joins a pair as the trio's extra member), and pairing with it is
free for the people with the fewest odd turns and forbidden for everyone else.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.costs import PairCost, Weights, index_cost
from matching.history import History, check_id
from matching.meeting import MeetingTerms
from matching.model import Person


@dataclass(frozen=True, slots=True)
class Problem:
    """The people of one round, as positions with int organisations."""

    ids: list[int]
    orgs: list[int]
    eligible: list[bool]
    cost: PairCost
    weights: Weights
    terms: MeetingTerms | None = None

    @property
    def size(self) -> int:
        """Vertices in the matching: the people, plus the dummy when odd."""
        return len(self.ids) + len(self.ids) % 2

    @property
    def dummy(self) -> int | None:
        return len(self.ids) if len(self.ids) % 2 else None


def build_problem(people: Sequence[Person], history: History, pairs_per_person: int = 1) -> Problem:
    """Number the people by id and resolve organisations and odd-role eligibility.

    ``pairs_per_person`` bounds the pairs of a grouping (1 for pairs and a trio;
    2 for groups of up to five) so that the weights stay exact."""
    roster = sorted(people, key=lambda p: p.id)
    ids = [p.id for p in roster]
    for a, b in zip(ids, ids[1:]):
        if a == b:
            raise ValueError(f"participant {a} appears twice")
    for person_id in ids[:1] + ids[-1:]:
        check_id(person_id)
    org_ids = {org: k for k, org in enumerate(sorted({p.org for p in roster}))}
    orgs = [org_ids[p.org] for p in roster]
    fewest = min((p.odd_turns for p in roster), default=0)
    eligible = [p.odd_turns == fewest for p in roster]
    terms = MeetingTerms.of(roster)
    weights = Weights.for_size(len(ids) * pairs_per_person, history.max_round, terms is not None)
    return Problem(ids, orgs, eligible, index_cost(ids, orgs, history, weights, terms), weights, terms)


def matching_cost(problem: Problem, allowed: Sequence[bool] | None = None) -> PairCost:
    """The pair cost over all vertices, the dummy's partners limited to ``allowed``."""
    dummy = problem.dummy
    if dummy is None:
        return problem.cost
    cost, forbidden = problem.cost, problem.weights.forbidden
    allowed = problem.eligible if allowed is None else allowed

    def cost_with_dummy(i: int, j: int) -> int:
        if i == dummy:
            return 0 if allowed[j] else forbidden
        if j == dummy:
            return 0 if allowed[i] else forbidden
        return cost(i, j)

    return cost_with_dummy

