"""Who meets whom this round: the pure pairing algorithm of unmentoring.

API::

    make_groups(people, history, seed, odd="trio", size=2) -> Grouping
    score(groups, history, orgs, people=()) -> Score
    organisation_key(organisation, email) -> str
    place_key(place) -> str; mode_key(mode) -> str
    History(pairs)            # optional prebuilt index of PastPair, reusable

``people`` are the eligible :class:`Person` s (id, resolved organisation key,
``odd_turns``, and optionally when and how they can meet: ``slots``, ``mode``,
``place``; :func:`matching.availability.utc_slots` turns a profile's
availability into ``slots``); ``history`` is every :class:`PastPair` (or a :class:`History`
built from them). The result's ``groups`` are pairs plus, when the count is
odd and ``odd="trio"``, one trio; with ``odd="sit_out"`` one person sits out
instead. A single person always sits out; nobody gives no groups. With
``size`` 3 or 4 the groups are of that size, a few one smaller or larger
(:mod:`matching.groups`). The caller adds one to ``odd_turns`` of each of
``Grouping.odd_ones``.

Rules, in order of precedence:

1. the odd role (trio extra or sitting out) goes only to people with the
   fewest ``odd_turns``, so it rotates through everyone;
2. then the lexicographic :class:`Score` is minimised: fewest repeats of pairs
   that met (``met`` True or unconfirmed None), repeating the oldest pairs
   first; then fewest repeats of pairs that reported not meeting; then fewest
   same-organisation pairs; then, when anyone said how they can meet, fewest
   pairs who cannot meet the way one of them must, fewest with no free hour
   in common, and most people who would meet in person grouped with someone
   from their own place (:mod:`matching.meeting`);
3. ties are broken at random by ``random.Random(seed)``: the same inputs and
   seed give the same groups, whatever order the inputs come in.

Up to 20 people the result is optimal (dynamic programming over subsets,
:mod:`matching.exact`); above, a randomised greedy start is repaired by a
local search for improving alternating cycles (:mod:`matching.solve` and
:mod:`matching.improve`), which stops as soon as the cost reaches a lower bound
(:mod:`matching.bounds`: the same-organisation pairs that are forced when one
organisation holds more than half), checked against an exact matcher in
``tests/test_matching.py`` and ``bench/bench_matching.py``. Groups of 3 and 4
are dealt and improved by swaps (:mod:`matching.groups`), checked against a
brute force in ``tests/test_groups.py``. No I/O, no clock, no global random
state.
"""
from matching.costs import Weights, score
from matching.history import History
from matching.meeting import mode_key, place_key
from matching.model import Grouping, PastPair, Person, Score
from matching.orgs import organisation_key
from matching.pairing import make_groups

__all__ = [
    "Grouping", "History", "PastPair", "Person", "Score", "Weights",
    "make_groups", "mode_key", "organisation_key", "place_key", "score",
]
