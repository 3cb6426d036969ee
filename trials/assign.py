"""Who goes in which arm: stratified by organisation and by how long people have been members, seeded.

Within each stratum people are shuffled and dealt to the arms in turn from a random starting arm, so
every stratum is split as evenly as it can be and no arm collects one organisation's people. The
same people, arms and seed always give the same assignment, whatever order the people come in.
Someone who confirms after the start goes to the arm with the fewest people of their stratum (ties
at random, seeded by the trial's seed and their id), which keeps the balance as the trial runs.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import Mapping, Sequence

TENURE_DAYS = (90, 365)   # bands: under 3 months, 3-12 months, over a year


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    org: str
    joined: datetime


def tenure_band(joined: datetime, now: datetime) -> int:
    days = (now - joined).days
    return sum(days >= limit for limit in TENURE_DAYS)


def stratum(member: Member, now: datetime) -> tuple[str, int]:
    return member.org, tenure_band(member.joined, now)


def assign(members: Sequence[Member], arms: Sequence[str], seed: int, now: datetime) -> dict[int, str]:
    """Each member's arm: every stratum split across the arms as evenly as possible."""
    if len(arms) < 2:
        raise ValueError("a trial needs at least two arms")
    rng = Random(seed)
    strata: dict[tuple[str, int], list[int]] = defaultdict(list)
    for member in sorted(members, key=lambda m: m.id):
        strata[stratum(member, now)].append(member.id)
    result: dict[int, str] = {}
    totals: Counter[str] = Counter()
    for key in sorted(strata):
        ids = strata[key]
        rng.shuffle(ids)
        start = _least_filled(arms, totals, rng)
        for n, pid in enumerate(ids):
            arm = arms[(start + n) % len(arms)]
            result[pid] = arm
            totals[arm] += 1
    return result


def _least_filled(arms: Sequence[str], totals: Counter[str], rng: Random) -> int:
    """Start each stratum's deal at an arm with the fewest people so far, so odd strata even out overall."""
    fewest = min(totals[a] for a in arms)
    return rng.choice([i for i, a in enumerate(arms) if totals[a] == fewest])


def assign_late(member: Member, assigned: Mapping[int, tuple[str, str]], arms: Sequence[str], seed: int) -> str:
    """The arm for someone confirming after the start; ``assigned`` maps each id to (arm, organisation).

    New members are all in the first tenure band, so their stratum is their organisation: the arm with
    the fewest of its people (then the fewest overall) gets them.
    """
    rng = Random(f"{seed}:{member.id}")
    same = Counter(arm for arm, org in assigned.values() if org == member.org)
    overall = Counter(arm for arm, _ in assigned.values())
    fewest = min((same[a], overall[a]) for a in arms)
    return rng.choice([a for a in arms if (same[a], overall[a]) == fewest])
