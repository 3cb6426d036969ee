"""What running trials change in one round's draw and emails (pure).

Given each person's arms and the trials' first rounds: who sits this round out (two-monthly people
in their off month), which people are drawn together (one part per combination of arms that change
the meeting; everyone else in one part), each part's group size, and whose introduction leaves out
the options to book or the conversation starter.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from trials.variables import GROUP_SIZES, VARIABLES, sits_out

Part = tuple[tuple[str, str], ...]   # the arms that changed the meeting, e.g. (("cadence", "monthly"),)


@dataclass(frozen=True)
class RoundTrials:
    sitting_out: frozenset[int] = frozenset()
    parts: dict[Part, list[int]] = field(default_factory=dict)
    no_options: frozenset[int] = frozenset()
    no_starters: frozenset[int] = frozenset()

    def group_size(self, part: Part, default: int) -> int:
        sizes = [GROUP_SIZES[arm] for variable, arm in part if variable == "group_size"]
        return sizes[0] if sizes else default


def round_trials(people: Iterable[int], arms: Mapping[int, Mapping[str, str]], first_rounds: Mapping[str, int],
                 round_no: int) -> RoundTrials:
    """``arms``: each person's arm per variable (running trials only); ``first_rounds``: per variable."""
    sitting, no_options, no_starters = set(), set(), set()
    parts: dict[Part, list[int]] = defaultdict(list)
    for pid in people:
        mine = arms.get(pid, {})
        if any(sits_out(VARIABLES[v], arm, round_no, first_rounds.get(v, round_no)) for v, arm in mine.items()):
            sitting.add(pid)
            continue
        parts[tuple(sorted((v, arm) for v, arm in mine.items() if VARIABLES[v].apart))].append(pid)
        if mine.get("options") == "no-options":
            no_options.add(pid)
        if mine.get("starters") == "no-starters":
            no_starters.add(pid)
    return RoundTrials(frozenset(sitting), dict(parts), frozenset(no_options), frozenset(no_starters))


def as_arms_say(personal: Mapping[int, dict[str, object]], trials: RoundTrials | None) -> dict[int, dict[str, object]]:
    """Each member's own part of an introduction, less the options or the starter their trial arm leaves out."""
    if trials is None:
        return dict(personal)
    shown = {}
    for pid, part in personal.items():
        part = dict(part)
        if pid in trials.no_options:
            part["options"] = []
        if pid in trials.no_starters:
            part["starter"] = ""
        shown[pid] = part
    return shown
