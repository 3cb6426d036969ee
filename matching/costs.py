"""The objective: a lexicographic :class:`Score`, and its encoding as one int.

Every pair inside a group (three for a trio) is charged:

* a met repeat (the pair was introduced before and met, or did not report):
  ``met_repeats += 1`` and ``met_repeat_rounds += last round introduced``;
* a not-met repeat (introduced before, every time reported not met):
  ``not_met_repeats += 1``;
* the same organisation: ``same_org += 1``;
* then, only when someone in the round said how they can meet, the three
  meeting tiers of :mod:`matching.meeting` (``mode_clash``, ``no_overlap``,
  ``in_person_missed``).

:class:`Weights` turns a pair's charges into one int whose sums order
groupings exactly as their scores do, which is what lets the matcher (and an
exact max-weight matching in tests and the bench) optimise plain numbers.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from matching.history import ID_BITS, History, pair_key
from matching.meeting import MeetingTerms
from matching.model import PastPair, Person, Score

PairCost = Callable[[int, int], int]


@dataclass(frozen=True, slots=True)
class Weights:
    """Multipliers that make a sum of pair costs compare like a :class:`Score`.

    Each weight exceeds the largest possible total of everything ranked below
    it, for groupings of at most ``pairs`` pairs whose history ends at
    ``max_round``. ``forbidden`` exceeds any grouping's cost. Without meeting
    terms the three lowest weights are 0 and the rest are exactly what they
    were before those tiers existed.
    """

    not_met: int
    met_round: int
    met: int
    forbidden: int
    same_org: int = 1
    mode_clash: int = 0
    no_overlap: int = 0

    @classmethod
    def for_size(cls, pairs: int, max_round: int, meeting: bool = False) -> Weights:
        bound = pairs + 1
        no_overlap = 2 * pairs + 1 if meeting else 0
        mode_clash = no_overlap * bound
        same_org = mode_clash * bound if meeting else 1
        not_met = same_org * bound
        met_round = not_met * bound
        met = met_round * bound * (max_round + 1)
        return cls(not_met, met_round, met, met * bound, same_org, mode_clash, no_overlap)

    def encode(self, score: Score) -> int:
        """The int that orders groupings as their scores do."""
        return (score.met_repeats * self.met + score.met_repeat_rounds * self.met_round
                + score.not_met_repeats * self.not_met + score.same_org * self.same_org
                + score.mode_clash * self.mode_clash + score.no_overlap * self.no_overlap
                + (score.in_person_missed if self.no_overlap else 0))

    def decode(self, total: int) -> Score:
        """The score whose encoding is ``total`` (a sum of pair costs)."""
        met_repeats, rest = divmod(total, self.met)
        met_repeat_rounds, rest = divmod(rest, self.met_round)
        not_met_repeats, rest = divmod(rest, self.not_met)
        if not self.no_overlap:
            return Score(met_repeats, met_repeat_rounds, not_met_repeats, rest)
        same_org, rest = divmod(rest, self.same_org)
        mode_clash, rest = divmod(rest, self.mode_clash)
        return Score(met_repeats, met_repeat_rounds, not_met_repeats, same_org, mode_clash,
                     *divmod(rest, self.no_overlap))


def pair_score(packed: int | None, same_org: bool, meeting: tuple[int, int, int] = (0, 0, 0)) -> Score:
    """The charges of one pair, given its packed history entry and its meeting charges."""
    if packed is None:
        return Score(0, 0, 0, int(same_org), *meeting)
    if packed & 1:
        return Score(1, packed >> 1, 0, int(same_org), *meeting)
    return Score(0, 0, 1, int(same_org), *meeting)


def score(groups: Iterable[Sequence[int]], history: History | Iterable[PastPair],
          orgs: Mapping[int, str], people: Sequence[Person] = ()) -> Score:
    """The :class:`Score` of a grouping; ``orgs`` maps each id to its organisation key.

    The meeting tiers are counted when ``people`` (the round's whole roster) is given.
    """
    index = history if isinstance(history, History) else History(history)
    get = index.packed_get()
    terms = MeetingTerms.of(people)
    position = {p.id: k for k, p in enumerate(people)}
    totals = [0] * 7
    for group in groups:
        for a, b in combinations(group, 2):
            meeting = terms.charges(position[a], position[b]) if terms else (0, 0, 0)
            charges = pair_score(get(pair_key(a, b)), orgs[a] == orgs[b], meeting)
            totals = [t + c for t, c in zip(totals, charges)]
    return Score(*totals)


def index_cost(ids: Sequence[int], orgs: Sequence[int], history: History,
               weights: Weights, terms: MeetingTerms | None = None, missed: bool = True) -> PairCost:
    """The encoded cost of pairing positions i and j, where ``ids`` is ascending
    (without ``in_person_missed`` when ``missed`` is False)."""
    if terms is not None:
        return meeting_cost(ids, orgs, history, weights, terms, missed)
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


def meeting_cost(ids: Sequence[int], orgs: Sequence[int], history: History,
                 weights: Weights, terms: MeetingTerms, missed: bool = True) -> PairCost:
    """:func:`index_cost` with the meeting tiers; a pair where neither states anything
    (nor seeks an in-person match) skips them."""
    get = history.packed_get()
    met, met_round, not_met, same_org = weights.met, weights.met_round, weights.not_met, weights.same_org
    clash_w, overlap_w, missed_w, shift = weights.mode_clash, weights.no_overlap, int(missed), ID_BITS
    stated = [terms.has_any(i) for i in range(len(ids))]
    charges = terms.charges

    def cost(i: int, j: int) -> int:
        a, b = ids[i], ids[j]
        packed = get((a << shift) | b if a < b else (b << shift) | a)
        total = same_org if orgs[i] == orgs[j] else 0
        if packed is not None:
            total += met + (packed >> 1) * met_round if packed & 1 else not_met
        if stated[i] or stated[j]:
            clash, no_overlap, apart = charges(i, j)
            total += clash * clash_w + no_overlap * overlap_w + apart * missed_w
        return total

    return cost
