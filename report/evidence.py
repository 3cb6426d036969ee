"""Why didn't people meet? The meet rate of groups side by side, split by what was done to help them.

Each comparison ("facet") splits the groups of closed rounds by one fact (booked a time or not,
meeting mode, group size, a time that suited everyone, how soon the host answered, someone's first
round or not) and gives each part its count, meet rate, a 95 % Wilson interval and the reasons its
NOT MET groups gave. A group with no report counts as not met, as in the rest of the report.

The Wilson interval is used because it stays inside 0-100 % and is honest for small counts, where the
plain "rate ± 2 standard errors" is not: with 3 of 4 groups met it gives 30 % to 95 %, which says
plainly that four groups prove little. Groups in different rounds share people, so the intervals are a
guide, not a test.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable

from inbound.reasons import label
from report.data import MET, NOT_MET, Group, History

Z95 = 1.959964


@dataclass(frozen=True)
class Part:
    label: str
    groups: int
    met: int
    low: float
    high: float
    reasons: tuple[tuple[str, int], ...]   # reason group and count, most common first

    @property
    def rate(self) -> float:
        return self.met / self.groups if self.groups else 0.0


@dataclass(frozen=True)
class Facet:
    title: str
    parts: tuple[Part, ...]


def wilson(met: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion `met` of `n` (0 to 1 when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = met / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if met == 0 else max(0.0, centre - half)   # exact at the ends, where rounding would stray
    return low, 1.0 if met == n else min(1.0, centre + half)


def host_speed(hours: float | None) -> str:
    if hours is None:
        return "host did not write"
    if hours < 24:
        return "host wrote within a day"
    return "host wrote in 1-3 days" if hours < 72 else "host wrote after 3 days"


FACETS: tuple[tuple[str, Callable[[Group, set[int]], str]], ...] = (
    ("Booked a time", lambda g, _: "booked" if g.meeting.booked else "did not book"),
    ("Meeting mode", lambda g, _: g.meeting.mode),
    ("Group size", lambda g, _: f"groups of {len(g.members)}"),
    ("A time that suited everyone", lambda g, _: g.meeting.offered or "before times were offered"),
    ("How soon the host answered", lambda g, _: host_speed(g.meeting.host_hours)),
    ("First round", lambda g, first: "someone's first round" if first & set(g.members) else "all had met others before"),
)


def closed_groups(history: History) -> list[Group]:
    closed = {r.number for r in history.rounds if not r.is_open}
    return [g for g in history.groups if g.round_no in closed]


def first_timers(history: History) -> dict[int, set[int]]:
    """For each round, the people introduced for the first time in it."""
    seen: set[int] = set()
    firsts: dict[int, set[int]] = defaultdict(set)
    for g in sorted(history.groups, key=lambda g: (g.round_no, g.id)):
        for pid in g.members:
            if pid not in seen:
                firsts[g.round_no].add(pid)
        seen.update(g.members)
    return firsts


def part(label: str, groups: list[Group]) -> Part:
    met = sum(g.outcome == MET for g in groups)
    why = Counter(g.reason_group for g in groups if g.outcome == NOT_MET)
    low, high = wilson(met, len(groups))
    return Part(label, len(groups), met, low, high, tuple(why.most_common()))


def evidence(history: History) -> list[Facet]:
    """Every facet that splits the closed rounds' groups into at least two parts."""
    groups = closed_groups(history)
    firsts = first_timers(history)
    facets = []
    for title, key in FACETS:
        split: dict[str, list[Group]] = defaultdict(list)
        for g in groups:
            split[key(g, firsts[g.round_no])].append(g)
        if len(split) > 1:
            parts = sorted((part(label, members) for label, members in split.items()), key=lambda p: -p.groups)
            facets.append(Facet(title, tuple(parts)))
    return facets


def booking_lines(facets: list[Facet]) -> list[str]:
    """The digest's two lines: booked against not booked, and the main reason among those that did not book."""
    booked = next((f for f in facets if f.title == "Booked a time"), None)
    if booked is None:
        return []
    parts = {p.label: p for p in booked.parts}
    yes, no = parts.get("booked"), parts.get("did not book")
    if yes is None or no is None:
        return []
    lines = [f"Groups that booked a time met {yes.rate:.0%} of the time ({yes.met} of {yes.groups}); "
             f"those that did not, {no.rate:.0%} ({no.met} of {no.groups})."]
    if no.reasons:
        reason, count = no.reasons[0]
        lines.append(f"Among groups that did not book, the reason most given for not meeting: {label(reason)} ({count}).")
    return lines
