"""Tests of groups of three and four (``make_groups(..., size=3 or 4)``, ``matching.groups``).

The reference is a brute force over every partition of up to 12 people into the documented
sizes, scored pair by pair from the raw history (``tests.test_matching.pair_charges``), with the
odd roles checked independently: the extra of a group one larger than the size, or the person
sitting out, comes from those with the fewest odd turns.
"""
from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Grouping, History, PastPair, Person, Score, make_groups, score
from tests.test_matching import FAST, Instance, add, instances, pair_charges

ZERO = Score(0, 0, 0, 0, 0, 0, 0)

# The documented sizes, written out: the groups off the size for each remainder (1 = sits out),
# the rest of the people in groups of the size; and the few small cases.
OFF = {(3, 1): [4], (3, 2): [4, 4], (4, 3): [3], (4, 2): [3, 3], (4, 1): [3, 3, 3]}
SMALL = {(5, 3): [3, 2], (5, 4): [5], (2, 3): [2], (2, 4): [2], (1, 3): [1], (1, 4): [1]}


def expected_sizes(n: int, size: int, sit_out: bool) -> Counter[int]:
    rest = n % size
    if sit_out and rest == 1:
        off = [1]
    elif (n, size) in SMALL:
        return Counter(SMALL[(n, size)])
    else:
        off = OFF.get((size, rest), [])
    return Counter(off) + Counter({size: (n - sum(off)) // size})


def role_sizes(sizes: Counter[int], size: int) -> int:
    return sum(count for s, count in sizes.items() if s == 1 or s > size)


def role_takers(people: Sequence[Person], roles: int) -> tuple[set[int], set[int]]:
    """(must take a role, may take one): the fewest turns first."""
    if not roles:
        return set(), set()
    level = sorted(p.odd_turns for p in people)[roles - 1]
    return ({p.id for p in people if p.odd_turns < level}, {p.id for p in people if p.odd_turns <= level})


def brute_force(people: Sequence[Person], history: Sequence[PastPair], size: int, sit_out: bool) -> Score:
    """The best score over every partition into the documented sizes that gives the odd roles fairly."""
    sizes = expected_sizes(len(people), size, sit_out)
    forced, allowed = role_takers(people, role_sizes(sizes, size))
    orgs = {p.id: p.org for p in people}
    charge = functools.cache(lambda a, b: pair_charges(a, b, history, orgs, people))

    def fair(group: tuple[int, ...]) -> bool:
        takes_role = len(group) == 1 or len(group) > size
        musts = sum(i in forced for i in group)
        return musts <= 1 and any(i in allowed for i in group) if takes_role else musts == 0

    @functools.cache
    def best(rest: tuple[int, ...], left: tuple[tuple[int, int], ...]) -> Score | None:
        if not rest:
            return ZERO
        options = []
        for k, (group_size, count) in enumerate(left):
            fewer = tuple((s, c - (j == k)) for j, (s, c) in enumerate(left) if c - (j == k) > 0)
            for others in itertools.combinations(rest[1:], group_size - 1):
                group = (rest[0], *others)
                tail = best(tuple(i for i in rest if i not in group), fewer) if fair(group) else None
                if tail is not None:
                    pairs = (charge(a, b) for a, b in itertools.combinations(group, 2))
                    options.append(add(functools.reduce(add, pairs, ZERO), tail))
        return min(options, default=None)

    result = best(tuple(sorted(orgs)), tuple(sorted(sizes.items())))
    assert result is not None
    return result


def assert_fair_partition(people: Sequence[Person], grouping: Grouping, size: int, sit_out: bool) -> None:
    """Everyone exactly once, the documented sizes, one role per role group, fairly given."""
    placed = [i for group in grouping.groups for i in group]
    placed += [] if grouping.sitting_out is None else [grouping.sitting_out]
    assert Counter(placed) == Counter(p.id for p in people)
    sizes = Counter(len(g) for g in grouping.groups) + Counter([1] * (grouping.sitting_out is not None))
    assert sizes == expected_sizes(len(people), size, sit_out)
    big = [g for g in grouping.groups if len(g) > size]
    assert len(grouping.extras) == len(big) and all(sum(e in g for e in grouping.extras) == 1 for g in big)
    forced, allowed = role_takers(people, len(grouping.odd_ones))
    assert forced <= set(grouping.odd_ones) <= allowed


# ---------------------------------------------------------------- structure and optimality

@settings(FAST, max_examples=60)
@given(instances(st.integers(0, 70)), st.sampled_from([3, 4]), st.booleans(), st.integers(0, 99))
def test_everyone_once_in_the_documented_sizes(instance: Instance, size: int, sit_out: bool, seed: int) -> None:
    people, history = instance
    grouping = make_groups(people, history, seed, "sit_out" if sit_out else "trio", size)
    assert_fair_partition(people, grouping, size, sit_out)
    assert grouping.score == score(grouping.groups, history, {p.id: p.org for p in people}, people)


@settings(FAST, max_examples=120)
@given(instances(st.integers(1, 12)), st.sampled_from([3, 4]), st.booleans(), st.integers(0, 99))
def test_small_rounds_match_brute_force(instance: Instance, size: int, sit_out: bool, seed: int) -> None:
    people, history = instance
    grouping = make_groups(people, history, seed, "sit_out" if sit_out else "trio", size)
    assert grouping.score == brute_force(people, history, size, sit_out)


@settings(FAST, max_examples=60)
@given(instances(st.integers(1, 12), meeting=True), st.sampled_from([3, 4]), st.integers(0, 99))
def test_small_rounds_with_meeting_preferences_match_brute_force(instance: Instance, size: int,
                                                                 seed: int) -> None:
    people, history = instance
    assert make_groups(people, history, seed, "trio", size).score == brute_force(people, history, size, False)


@settings(FAST, max_examples=30)
@given(instances(st.integers(2, 40)), st.sampled_from([3, 4]), st.integers(0, 99))
def test_same_seed_same_groups_whatever_the_input_order(instance: Instance, size: int, seed: int) -> None:
    people, history = instance
    reordered = [PastPair(p.b, p.a, p.round_no, p.met) for p in reversed(history)]
    assert make_groups(people[::-1], reordered, seed, size=size) == make_groups(people, history, seed, size=size)


# ---------------------------------------------------------------- over many rounds

@pytest.mark.parametrize(("n", "size"), [(12, 3), (16, 4), (13, 3), (21, 4), (300, 4), (301, 3)])
def test_no_pair_meets_twice_while_new_groups_are_possible(n: int, size: int) -> None:
    """Round after round, no two people share a group again while the history leaves room; the
    odd roles rotate through everyone."""
    turns = dict.fromkeys(range(n), 0)
    history, rounds = History(), 4 if n > 100 else (n - 1) // (size + 1)
    for round_no in range(1, rounds + 1):
        people = [Person(i, f"org{i % 5}", turns[i]) for i in turns]
        grouping = make_groups(people, history, round_no, size=size)
        assert grouping.score.met_repeats == grouping.score.not_met_repeats == 0, round_no
        for i in grouping.odd_ones:
            turns[i] += 1
        for group in grouping.groups:
            for a, b in itertools.combinations(group, 2):
                history.record(a, b, round_no, True)
    assert max(turns.values()) - min(turns.values()) <= 1


def test_avoids_same_organisation_in_groups_of_four_when_possible() -> None:
    people = [Person(i, "big" if i < 100 else f"org{i % 17}") for i in range(400)]
    assert make_groups(people, [], 5, size=4).score == ZERO


def test_rejects_a_size_other_than_two_three_or_four() -> None:
    with pytest.raises(ValueError):
        make_groups([Person(1, "a"), Person(2, "b")], [], 0, size=5)
