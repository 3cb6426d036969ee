"""The objective: a lexicographic :class:`Score`, and its encoding as one int.

Every pair inside a group (three for a trio) is charged:

* a met repeat (the pair was introduced before and met, or did not report):
  ``met_repeats += 1`` and ``met_repeat_rounds += last round introduced``;
* a not-met repeat (introduced before, every time reported not met):
  ``not_met_repeats += 1``;
* the same organisation: ``same_org += 1``.

:class:`Weights` turns a pair's charges into one int whose sums order
groupings exactly as their scores do, which is what lets the matcher (and an
exact max-weight matching in tests and the bench) optimise plain numbers.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from matching.history import ID_BITS, History, pair_key
from matching.model import PastPair, Score

PairCost = Callable[[int, int], int]


@dataclass(frozen=True, slots=True)
class Weights:
    """Multipliers that make a sum of pair costs compare like a :class:`Score`.

    Each weight exceeds the largest possible total of everything ranked below
    it, for groupings of ``people`` people (at most ``people`` pairs) whose
    history ends at ``max_round``. ``forbidden`` exceeds any grouping's cost.
    """

    not_met: int
    met_round: int
    met: int
    forbidden: int

    @classmethod
    def for_size(cls, people: int, max_round: int) -> Weights:
        not_met = people + 1
        met_round = not_met * (people + 1)
        met = met_round * (people + 1) * (max_round + 1)
        return cls(not_met, met_round, met, met * (people + 1))

    def encode(self, score: Score) -> int:
        """The int that orders groupings as their scores do."""
        return (score.met_repeats * self.met + score.met_repeat_rounds * self.met_round
                + score.not_met_repeats * self.not_met + score.same_org)

    def decode(self, total: int) -> Score:
        """The score whose encoding is ``total`` (a sum of pair costs)."""
        met_repeats, rest = divmod(total, self.met)
        met_repeat_rounds, rest = divmod(rest, self.met_round)
        return Score(met_repeats, met_repeat_rounds, *divmod(rest, self.not_met))


def pair_score(packed: int | None, same_org: bool) -> Score:
    """The charges of one pair, given its packed history entry."""
    if packed is None:
        return Score(0, 0, 0, int(same_org))
    if packed & 1:
        return Score(1, packed >> 1, 0, int(same_org))
    return Score(0, 0, 1, int(same_org))


def score(groups: Iterable[Sequence[int]], history: History | Iterable[PastPair],
          orgs: Mapping[int, str]) -> Score:
    """The :class:`Score` of a grouping; ``orgs`` maps each id to its organisation key."""
    index = history if isinstance(history, History) else History(history)
    get = index.packed_get()
    totals = [0, 0, 0, 0]
    for group in groups:
        for a, b in combinations(group, 2):
            charges = pair_score(get(pair_key(a, b)), orgs[a] == orgs[b])
            totals = [t + c for t, c in zip(totals, charges)]
    return Score(*totals)


def index_cost(ids: Sequence[int], orgs: Sequence[int], history: History,
               weights: Weights) -> PairCost:
    """The encoded cost of pairing positions i and j, where ``ids`` is ascending."""
    get = history.packed_get()
    met, met_round, not_met = weights.met, weights.met_round, weights.not_met
    shift = ID_BITS

    def cost(i: int, j: int) -> int:
        a, b = ids[i], ids[j]
        packed = get((a << shift) | b if a < b else (b << shift) | a)
        same = orgs[i] == orgs[j]
        if packed is None:
            return same
        if packed & 1:
            return same + met + (packed >> 1) * met_round
        return same + not_met

    return cost
