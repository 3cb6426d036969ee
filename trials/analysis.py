"""What a trial shows: the meet rate of each arm, the difference with a 95 % interval, and a plain sentence.

Each observation is one person's part in one group (did the group meet?), counted in that person's
arm. Two observations are not independent when they share a person (someone who never answers
drags down every group they are in) or a group (both members of a pair report the same meeting).
The interval's width allows for both: the variance of the difference adds up, for every pair of
observations that share a person or a group, the product of their deviations from their arm's rate
(a "cluster-robust" variance for data where one observation belongs to several clusters, as used
for pairs of countries or of people). ``tests/test_trials_stats.py`` checks on simulated
communities, through the real matcher, that these intervals hold the true effect 95 % of the time.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

Z95 = 1.959964
Z80 = 0.841621      # one-sided, for 80 % power
DIFFERENCE_TO_SEE = 0.10


@dataclass(frozen=True, slots=True)
class Seen:
    """One person's part in one group of a trial round: their arm, and whether the group met."""

    person: int
    group: int
    arm: str
    met: bool


@dataclass(frozen=True)
class Rate:
    arm: str
    met: int
    seen: int

    @property
    def value(self) -> float:
        return self.met / self.seen if self.seen else 0.0


@dataclass(frozen=True)
class Difference:
    """``second`` minus ``first`` in meet rate (0.14 = 14 points), with its standard error and 95 % interval."""

    first: str
    second: str
    estimate: float
    se: float

    @property
    def low(self) -> float:
        return self.estimate - Z95 * self.se

    @property
    def high(self) -> float:
        return self.estimate + Z95 * self.se

    @property
    def clear(self) -> bool:
        """The interval leaves out zero: the arms differ."""
        return self.low > 0 or self.high < 0


def rates(seen: Iterable[Seen]) -> dict[str, Rate]:
    met: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for s in seen:
        count[s.arm] += 1
        met[s.arm] += s.met
    return {arm: Rate(arm, met[arm], count[arm]) for arm in count}


def difference(seen: Sequence[Seen], first: str, second: str) -> Difference | None:
    """The second arm's rate minus the first's, or None while either arm has nothing to count."""
    by_arm = rates(seen)
    if by_arm.get(first, Rate(first, 0, 0)).seen == 0 or by_arm.get(second, Rate(second, 0, 0)).seen == 0:
        return None
    a, b = by_arm[first], by_arm[second]
    influence = [_influence(s, a, b) for s in seen]
    return Difference(first, second, b.value - a.value, math.sqrt(_linked_variance(seen, influence)))


def _influence(s: Seen, first: Rate, second: Rate) -> float:
    """How much this observation moves the difference: its deviation from its arm's rate, over the arm's size."""
    if s.arm == second.arm:
        return (s.met - second.value) / second.seen
    if s.arm == first.arm:
        return -(s.met - first.value) / first.seen
    return 0.0


def _linked_variance(seen: Sequence[Seen], influence: list[float]) -> float:
    """Sum of products over observation pairs sharing a person or a group (a pair shares both only with itself)."""
    by_person: dict[int, float] = defaultdict(float)
    by_group: dict[int, float] = defaultdict(float)
    alone = 0.0
    for s, x in zip(seen, influence):
        by_person[s.person] += x
        by_group[s.group] += x
        alone += x * x
    people = len(by_person)
    total = sum(v * v for v in by_person.values()) + sum(v * v for v in by_group.values()) - alone
    correction = people / (people - 1) if people > 1 else 1.0
    return max(total, alone) * correction


def rounds_needed(diff: Difference, rounds_so_far: int, to_see: float = DIFFERENCE_TO_SEE) -> int:
    """About how many more rounds like these until a difference of ``to_see`` would show (80 % power)."""
    wanted_se = to_see / (Z95 + Z80)
    if diff.se <= wanted_se or rounds_so_far <= 0:
        return 0
    return math.ceil(rounds_so_far * (diff.se / wanted_se) ** 2 - rounds_so_far)


def points(share: float) -> str:
    return f"{share * 100:+.0f}".replace("-", "\u2212")


def verdict(diff: Difference | None, rounds_so_far: int, labels: dict[str, str]) -> str:
    """One sentence a busy organiser can act on."""
    if diff is None:
        return "Too early to tell: no group in both arms has finished a round yet."
    span = f"95 % interval {points(diff.low)} to {points(diff.high)}"
    if diff.clear:
        better, worse = (diff.second, diff.first) if diff.estimate > 0 else (diff.first, diff.second)
        return (f"{labels.get(better, better)} met more often than {labels.get(worse, worse)}: "
                f"{points(abs(diff.estimate))} points, {span}.")
    more = rounds_needed(diff, rounds_so_far)
    if more == 0:
        return (f"No difference to speak of: {labels.get(diff.second, diff.second)} minus "
                f"{labels.get(diff.first, diff.first)} is {points(diff.estimate)} points, {span}.")
    return (f"Too early to tell: about {more} more round{'s' if more != 1 else ''} needed to see a "
            f"{round(DIFFERENCE_TO_SEE * 100)}-point difference ({points(diff.estimate)} points so far, {span}).")


def people_needed(rate: float = 0.6, to_see: float = 0.2, rounds: int = 12, group_size: int = 2) -> int:
    """People per arm for a difference of ``to_see`` to show within ``rounds`` (80 % power), allowing for
    each group being seen by all its members (a design effect of ``group_size``)."""
    per_arm = 2 * (Z95 + Z80) ** 2 * rate * (1 - rate) / to_see ** 2 * group_size
    return math.ceil(per_arm / rounds)
