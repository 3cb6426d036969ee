"""The index of past pairs a draw reads, stored ready-made and kept in step with the matches and outcomes.

Rebuilding `matching.History` from every match at each draw took 8 of a draw's 10 s at
100,000 people and three years of monthly rounds: millions of rows through Python. The
index is stored instead, as `models.PairBucket` rows holding two arrays each (the pairs'
packed keys, sorted, and their values), and a draw reads those 251 rows and searches the
arrays where they lie (`StoredHistory`): it looks up fewer pairs than there are people,
so a binary search per lookup costs far less than building a dict of every pair (1-2 s
at 1.8M pairs).

It changes in the transaction that changes what it is derived from:

- `record_groups`, when a draw makes groups (`round open`, `round top-up`): each new pair's
  last round becomes this round and it counts as met, since nobody has reported yet;
- `refresh_match`, when a member reports MET or NOT MET: the match's pairs are worked out
  again from all their matches and the latest report on each.

FORGET and the retention purge keep groups and reports (they clear texts only), and the
purge erases only people who never confirmed, so never took part: neither touches the
index. `rebuild` works it all out again from the matches (after a bulk load, or to
repair it); the tests compare the stored index with `rounds.history.history_from_matches`.
"""
from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from itertools import combinations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from matching import History
from matching.history import pair_key
from models import Match, MatchMember, PairBucket, Round
from rounds.history import history_from_matches, match_outcomes

BUCKETS = 251
"""Prime, so both ids of a pair decide its bucket; ~7,000 pairs (85 KB) each at 1.8M pairs."""

KEY, VALUE = "Q", "I"
assert array(KEY).itemsize == 8 and array(VALUE).itemsize == 4

Contents = dict[int, dict[int, int]]


def bucket_of(key: int) -> int:
    return key % BUCKETS


def unpack(blob: bytes, code: str) -> array[int]:
    numbers = array(code)
    numbers.frombytes(blob)
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers


def pack(numbers: Iterable[int], code: str) -> bytes:
    packed = array(code, numbers)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


class StoredHistory(History):
    """The stored index as `matching.make_groups` reads it: each bucket's sorted keys and their
    values, searched in place. Read-only: the index changes through this module's functions."""

    __slots__ = ("_keys", "_values", "_count")

    def __init__(self, keys: list[array[int]], values: list[array[int]], max_round: int) -> None:
        super().__init__()
        self._keys, self._values, self._max_round = keys, values, max_round
        self._count = sum(map(len, keys))

    def packed_get(self) -> Callable[[int], int | None]:
        def get(key: int, keys: list[array[int]] = self._keys, values: list[array[int]] = self._values) -> int | None:
            bucket = key % BUCKETS
            found = keys[bucket]
            at = bisect_left(found, key)
            return values[bucket][at] if at < len(found) and found[at] == key else None
        return get

    def lookup(self, a: int, b: int) -> tuple[int, bool] | None:
        packed = self.packed_get()(pair_key(a, b))
        return None if packed is None else (packed >> 1, bool(packed & 1))

    def packed_items(self) -> Iterator[tuple[int, int]]:
        for keys, values in zip(self._keys, self._values):
            yield from zip(keys, values)

    def record(self, a: int, b: int, round_no: int, met: bool | None) -> None:
        raise TypeError("the stored index is read-only: change it through rounds.pair_index")

    def add_packed(self, rows: list[tuple[int, int]]) -> None:
        raise TypeError("the stored index is read-only: change it through rounds.pair_index")

    def __len__(self) -> int:
        return self._count


def past_pairs(session: Session) -> StoredHistory:
    """Every past introduction, indexed for `matching.make_groups`: what a draw reads."""
    session.flush()
    columns = PairBucket.__table__.c
    keys, values = [array(KEY)] * BUCKETS, [array(VALUE)] * BUCKETS
    latest = 0
    query = select(columns.bucket, columns.pair_keys, columns.pair_values, columns.last_round)
    for bucket, packed_keys, packed_values, last in session.execute(query):
        keys[bucket], values[bucket] = unpack(packed_keys, KEY), unpack(packed_values, VALUE)
        latest = max(latest, last)
    return StoredHistory(keys, values, latest)


def record_groups(session: Session, round_no: int, groups: Iterable[Iterable[int]]) -> None:
    """Add the groups a draw made in round `round_no` (none of them reported on yet)."""
    new = {pair_key(a, b) for group in groups for a, b in combinations(group, 2)}
    contents = locked(session, {bucket_of(key) for key in new})
    for key in new:
        bucket = contents[bucket_of(key)]
        bucket[key] = (max(bucket.get(key, 0) >> 1, round_no) << 1) | 1
    save(session, contents)


def refresh_match(session: Session, match_id: int) -> None:
    """Work out the pairs of this match again, after a report on it."""
    session.flush()
    members = session.scalars(select(MatchMember.participant_id).where(MatchMember.match_id == match_id))
    refresh_pairs(session, combinations(sorted(members), 2))


def refresh_pairs(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    session.flush()
    worked_out = {pair_key(a, b): pair_value(session, a, b) for a, b in pairs}
    contents = locked(session, {bucket_of(key) for key in worked_out})
    for key, packed in worked_out.items():
        if packed is None:
            contents[bucket_of(key)].pop(key, None)
        else:
            contents[bucket_of(key)][key] = packed
    save(session, contents)


def pair_value(session: Session, a: int, b: int) -> int | None:
    """``last round << 1 | counts as met`` of a and b from their matches; None if never grouped.

    Counts as met unless the latest report on every match of theirs says not met.
    """
    one, other = MatchMember.__table__.alias("one"), MatchMember.__table__.alias("other")
    query = (select(one.c.match_id, Round.number)
             .join(other, other.c.match_id == one.c.match_id)
             .join(Match, Match.id == one.c.match_id).join(Round, Round.id == Match.round_id)
             .where(one.c.participant_id == a, other.c.participant_id == b))
    rounds = {match: number for match, number in session.execute(query)}
    if not rounds:
        return None
    latest = match_outcomes(session, rounds)
    return (max(rounds.values()) << 1) | any(latest.get(match) is not False for match in rounds)


def rebuild(session: Session) -> int:
    """Work the whole index out again from every match; how many pairs it holds."""
    history = history_from_matches(session)
    contents = locked(session, set(range(BUCKETS)))
    for bucket in contents.values():
        bucket.clear()
    for key, packed in history.packed_items():
        contents[bucket_of(key)][key] = packed
    save(session, contents)
    return len(history)


def locked(session: Session, buckets: set[int]) -> Contents:
    """What these buckets hold, their rows locked until the transaction ends.

    On PostgreSQL the lock keeps two writers from each saving over the other's change;
    SQLite writers take turns anyway. A bucket row missing (a database whose migration
    did not create them all) is created empty.
    """
    columns = PairBucket.__table__.c
    query = (select(columns.bucket, columns.pair_keys, columns.pair_values)
             .where(columns.bucket.in_(sorted(buckets))).with_for_update())
    found = {b: dict(zip(unpack(k, KEY), unpack(v, VALUE))) for b, k, v in session.execute(query)}
    missing = sorted(buckets - found.keys())
    if missing:
        session.execute(insert(PairBucket.__table__), [empty_row(b) for b in missing])
    return {b: found.get(b, {}) for b in buckets}


def empty_row(bucket: int) -> dict[str, object]:
    return {"bucket": bucket, "pairs": 0, "last_round": 0, "pair_keys": b"", "pair_values": b""}


def save(session: Session, contents: Contents) -> None:
    if not contents:
        return
    table = PairBucket.__table__
    rows = []
    for b, pairs in contents.items():
        keys = sorted(pairs)
        rows.append({"b": b, "pairs": len(keys), "last_round": max(pairs.values(), default=0) >> 1,
                     "pair_keys": pack(keys, KEY), "pair_values": pack(map(pairs.__getitem__, keys), VALUE)})
    session.execute(update(table).where(table.c.bucket == bindparam("b")), rows)
