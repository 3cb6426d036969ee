"""A lower bound on the matching's cost, so that the repair knows when to stop.

When one organisation holds more than half of a round, some of its members
can only be paired with each other: with ``big`` of them among ``m`` people,
at least ``big - (m - big)`` of them have no partner from elsewhere, so at
least half that many same-organisation pairs are unavoidable. No
organisation other than the largest can exceed half, so the bound is exact
whenever nobody has met before: the largest organisation's surplus pairs
among itself and everyone else pairs across organisations.

With an odd count the dummy of :mod:`matching.problem` takes one eligible
person out of the matching, so the bound is the least over the choices the
odd-role rule allows: a member of the largest organisation (its surplus
shrinks by one) or anyone else (it grows by one). A trio's plan costs its
matching plus the extra's join, so the matching's bound holds for trios too.

Repeats cost more than any number of same-organisation pairs, so the bound
counts none: it is reached exactly when the matching repeats no pair and has
no avoidable same-organisation pair, and then no repair can improve it.
"""
from __future__ import annotations

from collections import Counter

from matching.problem import Problem


def cost_floor(problem: Problem) -> int:
    """The least encoded cost any perfect matching of the problem can have."""
    orgs, people = problem.orgs, len(problem.orgs)
    if people < 2:
        return 0
    sizes = Counter(orgs).most_common(2)
    largest, big = sizes[0]
    second = sizes[1][1] if len(sizes) > 1 else 0
    if people % 2 == 0:
        return surplus_pairs(big, people)
    options = []
    if any(problem.eligible[i] for i in range(people) if orgs[i] == largest):
        options.append(surplus_pairs(max(big - 1, second), people - 1))
    if any(problem.eligible[i] for i in range(people) if orgs[i] != largest):
        options.append(surplus_pairs(big, people - 1))
    return min(options)


def surplus_pairs(big: int, people: int) -> int:
    """Same-organisation pairs forced when one organisation has ``big`` of ``people``."""
    return max(0, 2 * big - people) // 2
