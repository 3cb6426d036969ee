"""Large rounds where people would meet in person: pair first, then bring same-place people together.

``in_person_missed`` is the lowest tier, and often some of it cannot be
avoided (an odd number in a town, or everyone there has met). A cost that
stays positive whatever the pairing sends the cycle repair of
:mod:`matching.solve` on long fruitless searches, so for the fast path the
pairs are first solved on every tier but that one, then improved on it
alone, place by place: each person still apart is swapped with another of their
place, looked up rather than sampled; if two or more are still apart (up to
:data:`MATCH_LIMIT` people in the place), the most pairs among them that
cost nothing (a maximum matching, networkx) are made, their old partners
paired up again, and the swaps tried once more. Every change is
taken only when the full cost falls, so no higher tier ever gets worse.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from random import Random

import networkx as nx

from matching.costs import PairCost, index_cost
from matching.history import History
from matching.meeting import MeetingTerms
from matching.plan import Plan
from matching.problem import Problem
from matching.solve import solve_heuristic

PLACES_FROM = 64  # fewer people: the cycle repair on the full cost is quick enough, and exact in tests
TRIES = 64
DETOURS = 8
MATCH_LIMIT = 400
REPAIRS = 200


def solve_with_places(problem: Problem, history: History, rng: Random, trio: bool) -> Plan:
    """:func:`matching.solve.solve_heuristic` without the lowest tier, then that tier."""
    terms = problem.terms
    assert terms is not None
    coarse = index_cost(problem.ids, problem.orgs, history, problem.weights, terms, missed=False)
    plan = solve_heuristic(replace(problem, cost=coarse), rng, trio)
    pairs = [pair for pair in plan.pairs if pair != plan.host]
    mate = {a: b for pair in pairs for a, b in (pair, pair[::-1])}
    Together(problem.cost, terms, mate, rng).run()
    pairs = [(a, b) for a, b in mate.items() if a < b] + ([plan.host] if plan.host else [])
    return Plan(pairs, plan.odd_one, plan.host, plan_cost(problem.cost, pairs, plan))


def plan_cost(cost: PairCost, pairs: list[tuple[int, int]], plan: Plan) -> int:
    total = sum(cost(a, b) for a, b in pairs)
    if plan.host is not None and plan.odd_one is not None:
        total += cost(plan.odd_one, plan.host[0]) + cost(plan.odd_one, plan.host[1])
    return total


class Together:
    """Swaps partners in ``mate`` so that people who seek an in-person match meet one from their place."""

    def __init__(self, cost: PairCost, terms: MeetingTerms, mate: dict[int, int], rng: Random) -> None:
        self.cost, self.terms, self.mate, self.rng = cost, terms, mate, rng
        self.pairs = sorted((a, b) for a, b in mate.items() if a < b)

    def apart(self, i: int) -> bool:
        t = self.mate[i]
        return not (self.terms.seeker[t] and self.terms.place[t] == self.terms.place[i])

    def run(self) -> None:
        self.pairs = sorted((a, b) for a, b in self.mate.items() if a < b)
        by_place: dict[str, list[int]] = defaultdict(list)
        for i in sorted(self.mate):
            if self.terms.seeker[i]:
                by_place[self.terms.place[i]].append(i)
        for place in sorted(by_place):
            seekers = by_place[place]
            self.join(seekers)
            if len(seekers) <= MATCH_LIMIT and sum(map(self.apart, seekers)) >= 2:
                self.match_place(seekers)
                self.join(seekers)

    def match_place(self, seekers: list[int]) -> None:
        """The most pairs of one place that cost nothing (a maximum matching, networkx), taken
        when they and their old partners, paired up again, cost less than before."""
        cost = self.cost
        self.pairs = sorted((a, b) for a, b in self.mate.items() if a < b)
        graph = nx.Graph()
        graph.add_edges_from((a, b) for k, a in enumerate(seekers) for b in seekers[k + 1:] if cost(a, b) == 0)
        best = nx.max_weight_matching(graph, maxcardinality=True)
        together = sum(not self.apart(i) for i in seekers)
        if 2 * len(best) <= together:
            return
        chosen = sorted(tuple(sorted(pair)) for pair in best)
        placed = {i for pair in chosen for i in pair}
        old = {tuple(sorted((i, self.mate[i]))) for i in placed}
        free = sorted({i for pair in old for i in pair} - placed)
        new = chosen + self.pair_up(free)
        busy = placed | set(free)
        for k, (x, y) in enumerate(new):
            if cost(x, y) and x not in placed:
                outside = self.cheaper_with(x, y, busy)
                if outside is not None:
                    a, b = outside
                    old.add(tuple(sorted((a, b))))
                    busy.update(outside)
                    new[k:k + 1] = [(x, a), (y, b)]
        if sum(cost(a, b) for a, b in new) < sum(cost(a, b) for a, b in old):
            for a, b in new:
                self.link(a, b)

    def cheaper_with(self, x: int, y: int, busy: set[int]) -> tuple[int, int] | None:
        """A pair (a, b) outside ``busy`` such that (x, a), (y, b) cost less than (x, y), (a, b):
        the first that costs no more than (a, b) alone, else the cheapest of :data:`REPAIRS` draws."""
        cost, rand = self.cost, self.rng.random
        best, best_gain = None, 0
        for _ in range(REPAIRS):
            a, b = self.pairs[int(rand() * len(self.pairs))]
            if self.mate.get(a) != b or a in busy or b in busy:
                continue
            for a, b in ((a, b), (b, a)):
                added = cost(x, a) + cost(y, b) - cost(a, b)
                if added <= 0:
                    return a, b
                if cost(x, y) - added > best_gain:
                    best, best_gain = (a, b), cost(x, y) - added
        return best

    def pair_up(self, free: list[int]) -> list[tuple[int, int]]:
        """``free`` (an even number of people) in pairs, each taking the first who costs nothing."""
        self.rng.shuffle(free)
        pairs, cost = [], self.cost
        while free:
            a = free.pop()
            k = next((k for k, b in enumerate(free) if cost(a, b) == 0), None)
            if k is None:
                k = min(range(len(free)), key=lambda k: cost(a, free[k]))
            pairs.append((a, free.pop(k)))
        return pairs

    def join(self, seekers: list[int]) -> None:
        """Pair up the people of one place still apart, as far as the full cost allows: two of
        them directly, or by way of a pair from the place already together."""
        self.rng.shuffle(seekers)
        waiting = [i for i in seekers if self.apart(i)]
        for k, s in enumerate(waiting):
            others = [o for o in waiting[k + 1:] if o != self.mate[s] and self.apart(o)][:TRIES]
            if self.apart(s) and not any(self.swap(s, o) or self.detour(s, o) for o in others):
                self.through(s, others, seekers)

    def through(self, s: int, others: list[int], seekers: list[int]) -> bool:
        """(s, t), (p, q), (o, v) -> (s, p), (q, o), (t, v): a together pair (p, q) takes s
        and o in, for some other person o of the place still apart."""
        cost, t = self.cost, self.mate[s]
        pairs = [p for p in seekers if not self.apart(p) and p not in (s, t)][:TRIES]
        for o in others:
            v = self.mate[o]
            if not self.apart(o) or v in (s, t):
                continue
            for p in pairs:
                q = self.mate[p]
                if self.apart(p) or {p, q} & {o, v} or q in (s, t):
                    continue
                if cost(s, p) + cost(q, o) + cost(t, v) < cost(s, t) + cost(p, q) + cost(o, v):
                    self.link(s, p)
                    self.link(q, o)
                    self.link(t, v)
                    return True
        return False

    def swap(self, s: int, other: int) -> bool:
        """(s, t), (other, u) -> (s, other), (t, u) when that costs less."""
        cost, t, u = self.cost, self.mate[s], self.mate[other]
        if cost(s, other) + cost(t, u) < cost(s, t) + cost(other, u):
            self.link(s, other)
            self.link(t, u)
            return True
        return False

    def detour(self, s: int, other: int) -> bool:
        """(s, t), (other, u), (x, y) -> (s, other), (t, x), (u, y), for a few random pairs (x, y)."""
        cost, t, u = self.cost, self.mate[s], self.mate[other]
        before = cost(s, t) + cost(other, u)
        for _ in range(DETOURS):
            x, y = self.pairs[int(self.rng.random() * len(self.pairs))]
            x, y = (x, y) if self.mate.get(x) == y else (y, x)
            if self.mate.get(x) != y or {x, y} & {s, t, other, u}:
                continue
            for a, b in ((x, y), (y, x)):
                if cost(s, other) + cost(t, a) + cost(u, b) < before + cost(a, b):
                    self.link(s, other)
                    self.link(t, a)
                    self.link(u, b)
                    return True
        return False

    def link(self, a: int, b: int) -> None:
        self.mate[a], self.mate[b] = b, a
