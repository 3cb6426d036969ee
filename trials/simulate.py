"""Communities with a known effect, run through the real matcher: for the calibration test and the demo.

Each person has their own readiness to meet (some always do, some never answer), drawn once; a group
meets with probability its arm's rate plus its members' mean readiness, so groups that share a person
are alike, as in real schemes. Groups are drawn within each arm by :func:`matching.make_groups` with
the arm's history, as a trial of cadence or group size does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from random import Random

from matching import History, PastPair, Person, make_groups
from trials.analysis import Seen
from trials.assign import Member, assign

START = datetime(2027, 1, 4, 9, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Community:
    people: int = 120
    organisations: int = 8
    rounds: int = 6
    readiness: float = 0.2     # each person's readiness is uniform in +-this
    rates: tuple[float, float] = (0.5, 0.5)   # each arm's meet rate for an average group


def run_trial(community: Community, seed: int, arms: tuple[str, str] = ("A", "B")) -> list[Seen]:
    """Every person's part in every group of the trial's rounds."""
    rng = Random(seed)
    members = [Member(i, f"org{rng.randrange(community.organisations)}",
                      START - timedelta(days=rng.randrange(700))) for i in range(community.people)]
    readiness = {m.id: rng.uniform(-community.readiness, community.readiness) for m in members}
    arm_of = assign(members, arms, seed, START)
    rate = dict(zip(arms, community.rates))
    seen: list[Seen] = []
    group_id = 0
    for arm in arms:
        people = [Person(m.id, m.org) for m in members if arm_of[m.id] == arm]
        past: list[PastPair] = []
        for round_no in range(1, community.rounds + 1):
            grouping = make_groups(people, History(past), rng.randrange(2**32))
            for group in grouping.groups:
                group_id += 1
                chance = rate[arm] + sum(readiness[p] for p in group) / len(group)
                met = rng.random() < chance
                seen.extend(Seen(p, group_id, arm, met) for p in group)
                past.extend(PastPair(a, b, round_no, met) for i, a in enumerate(group) for b in group[i + 1:])
    return seen
