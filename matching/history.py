"""An index of past pairs, compact enough for millions of introductions.

Each unordered pair of ids packs into one int key; the value packs the last
round the pair was introduced and whether any of its introductions counts as
met (``met`` True or None). A pair introduced several times is thus a met
repeat if it ever met, and its age is that of its latest introduction.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from matching.model import PastPair

ID_BITS = 32
ID_LIMIT = 1 << ID_BITS


def pair_key(a: int, b: int) -> int:
    """The packed key of the unordered pair {a, b}."""
    return (a << ID_BITS) | b if a < b else (b << ID_BITS) | a


def check_id(person_id: int) -> None:
    """Reject ids that cannot be packed into a pair key."""
    if not 0 <= person_id < ID_LIMIT:
        raise ValueError(f"participant id {person_id} is outside 0..2**32-1")


class History:
    """Past pairs, looked up in O(1) by unordered pair of ids.

    Build it once per round from the stored pairs (or keep one and
    :meth:`record` each new round); :func:`matching.make_groups` only reads it.
    """

    __slots__ = ("_pairs", "_max_round")

    def __init__(self, pairs: Iterable[PastPair] = ()) -> None:
        self._pairs: dict[int, int] = {}
        self._max_round = 0
        for pair in pairs:
            self.record(pair.a, pair.b, pair.round_no, pair.met)

    def record(self, a: int, b: int, round_no: int, met: bool | None) -> None:
        """Add one introduction of a and b in round ``round_no``."""
        check_id(a)
        check_id(b)
        if a == b or round_no < 0:
            raise ValueError(f"bad past pair ({a}, {b}) in round {round_no}")
        key = pair_key(a, b)
        old = self._pairs.get(key, 0)
        last = max(old >> 1, round_no)
        self._pairs[key] = (last << 1) | (old & 1) | (met is not False)
        self._max_round = max(self._max_round, round_no)

    def add_packed(self, rows: list[tuple[int, int]]) -> None:
        """Add introductions already packed as ``(pair_key(a, b), round_no << 1 | counts_as_met)``.

        The database can compute both numbers, so a history of millions of pairs loads
        without a Python call per pair: a batch whose keys are all new goes in with one
        ``dict.update``; a batch that repeats a pair (rare: a repeat-free draw exists
        once the community is large) is folded in pair by pair, exactly as
        :meth:`record` would. Keys are trusted to come from valid ids.
        """
        batch = dict(rows)
        if not batch:
            return
        if len(batch) == len(rows) and self._pairs.keys().isdisjoint(batch):
            self._pairs.update(batch)
            latest = max(batch.values())
        else:
            latest = max(packed for _, packed in rows)
            pairs = self._pairs
            for key, packed in rows:
                old = pairs.get(key, 0)
                pairs[key] = (max(old >> 1, packed >> 1) << 1) | (old & 1) | (packed & 1)
        self._max_round = max(self._max_round, latest >> 1)

    def lookup(self, a: int, b: int) -> tuple[int, bool] | None:
        """(last round introduced, counts as met) for the pair, or None if new."""
        packed = self._pairs.get(pair_key(a, b))
        return None if packed is None else (packed >> 1, bool(packed & 1))

    def packed_get(self) -> Callable[[int], int | None]:
        """The raw ``dict.get`` over packed keys, for the hot loop of the matcher.

        Values are ``last_round << 1 | met``; absent pairs give None.
        """
        return self._pairs.get

    def packed_items(self) -> Iterable[tuple[int, int]]:
        """Every pair as ``(pair_key, last_round << 1 | met)``, for storing the index."""
        return self._pairs.items()

    def __eq__(self, other: object) -> bool:
        """Same pairs, same values, same latest round (whatever holds them)."""
        if not isinstance(other, History):
            return NotImplemented
        return self.max_round == other.max_round and dict(self.packed_items()) == dict(other.packed_items())

    @property
    def max_round(self) -> int:
        """The latest round number recorded (0 when empty)."""
        return self._max_round

    def __len__(self) -> int:
        return len(self._pairs)
