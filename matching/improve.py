"""Local repair of a perfect matching by improving alternating cycles.

An alternating cycle drops a pair of the matching, adds a new pair, drops a
pair, ... and closes back at the start; a 2-opt swap is the cycle of two
pairs. Two perfect matchings differ by such cycles, so a matching that is not
optimal has an improving one. By the cycle lemma, any improving cycle can be
walked from some starting pair so that the running gain stays positive after
every step: the search therefore starts only from costly pairs and prunes a
walk as soon as its running gain drops to zero.

The search is a heuristic: candidates are sampled, walks are at most
``max_depth`` pairs long, each vertex is entered again only with a strictly
larger gain than before (which keeps a search polynomial but can miss cycles
through odd loops), and each search stops after ``budget`` nodes.

A repair that cannot improve stops early: as soon as the matching's cost
reaches ``floor`` (a lower bound, :mod:`matching.bounds`), and the costliest
pairs are searched first so that a fixable repeat is not kept waiting behind
pairs that cannot be improved. A pair whose search failed is searched again
in a later sweep only if a vertex that search entered has changed partner
since: with the candidates in a fixed order (every vertex, up to 400) the
search would otherwise walk exactly the same way and fail again; with sampled
candidates nothing near the pair has changed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush

from matching.costs import PairCost

Candidates = Callable[[int], Iterable[int]]
MEMORY = 1_000_000


@dataclass
class CycleSearch:
    """Repairs ``mate`` in place; ``candidates(y)`` proposes new partners for y."""

    mate: list[int]
    cost: PairCost
    candidates: Candidates
    max_depth: int
    budget: int
    total: int
    floor: int = 0
    _nodes: int = field(default=0, init=False)
    _labels: dict[int, int] = field(default_factory=dict, init=False)
    _moves: int = field(default=0, init=False)
    _moved_at: dict[int, int] = field(default_factory=dict, init=False)
    _failed: dict[int, tuple[int, frozenset[int]]] = field(default_factory=dict, init=False)
    _remembered: int = field(default=0, init=False)

    def run(self, starts: Iterable[int]) -> int:
        """Repair from the pairs of ``starts`` until a sweep finds nothing or the
        cost reaches the floor; the total gain."""
        start = self.total
        pending = list(starts)
        while pending and self.total > self.floor:
            improved, touched, stuck = self._sweep(pending)
            if not improved:
                break
            pending = stuck + touched
        return start - self.total

    def _sweep(self, pending: Sequence[int]) -> tuple[int, list[int], list[int]]:
        """One pass over the costly pairs in ``pending``, costliest first, a pair
        that an improvement left costly going back in line at its new cost:
        (gain, changed vertices, stuck)."""
        queue = Queue(self.cost, self.mate, pending)
        gain, touched, stuck, seen = 0, [], [], set()
        while self.total > self.floor and (s := queue.pop()) is not None:
            t = self.mate[s]
            if s in seen or t in seen:
                continue
            if self._unchanged_since_failure(s):
                seen.update((s, t))
                stuck.append(s)
                continue
            found = self._search(s, t)
            entered = self._labels.keys()
            found = found or self._search(t, s)
            if found is None:
                self._remember_failure(s, t, entered | self._labels.keys())
                seen.update((s, t))
                stuck.append(s)
                continue
            improved = self._apply(*found)
            gain += improved
            self.total -= improved
            touched.extend(found[1])
            queue.extend(found[1])
        return gain, touched, stuck

    def _unchanged_since_failure(self, s: int) -> bool:
        """Whether s's pair failed a search and nothing that search entered has moved since."""
        record = self._failed.get(s)
        if record is None:
            return False
        failed_at, entered = record
        moved_at = self._moved_at
        return all(moved_at.get(v, -1) <= failed_at for v in entered)

    def _remember_failure(self, s: int, t: int, entered: set[int]) -> None:
        """Note what a failed search from (s, t) depended on, within :data:`MEMORY` vertices."""
        if self._remembered + len(entered) + 2 > MEMORY:
            return
        self._failed[s] = (self._moves, frozenset(entered | {s, t}))
        self._remembered += len(entered) + 2

    def _search(self, s: int, t: int) -> tuple[int, list[int]] | None:
        """An improving cycle that drops the pair (s, t), walking on from t."""
        self._nodes = 0
        self._labels = {}
        path = self._extend(s, [t], {s, t}, self.cost(s, t))
        return None if path is None else (s, path)

    def _extend(self, s: int, path: list[int], used: set[int], gain: int) -> list[int] | None:
        """Depth-first extension of ``path`` = [t, x1, z1, ..., zk] with running gain ``gain``."""
        y, cost, mate, labels = path[-1], self.cost, self.mate, self._labels
        deeper = len(path) // 2 < self.max_depth
        for x in self.candidates(y):
            if x in used:
                continue
            g = gain - cost(y, x)
            if g <= labels.get(x, 0):
                continue
            labels[x] = g
            z = mate[x]
            g += cost(x, z)
            if g - cost(z, s) > 0:
                return path + [x, z]
            if deeper and self._spend():
                used.update((x, z))
                found = self._extend(s, path + [x, z], used, g)
                if found is not None:
                    return found
                used.difference_update((x, z))
        return None

    def _spend(self) -> bool:
        """Count a node; False once this search has used up its budget."""
        self._nodes += 1
        return self._nodes <= self.budget

    def _apply(self, s: int, path: list[int]) -> int:
        """Swap the pairs along the cycle; the gain it realises."""
        cost, mate = self.cost, self.mate
        before = cost(s, path[0]) + sum(cost(x, mate[x]) for x in path[1::2])
        pairs = list(zip(path[0::2], path[1::2])) + [(path[-1], s)]
        self._moves += 1
        for a, b in pairs:
            mate[a], mate[b] = b, a
            self._moved_at[a] = self._moved_at[b] = self._moves
        return before - sum(cost(a, b) for a, b in pairs)


class Queue:
    """Vertices whose pairs cost something, costliest pair first (ties in the
    order they came); a pair whose cost changed while waiting is re-queued."""

    def __init__(self, cost: PairCost, mate: list[int], vertices: Iterable[int]) -> None:
        self.cost, self.mate, self._count = cost, mate, 0
        self._heap: list[tuple[int, int, int]] = []
        self.extend(vertices)

    def extend(self, vertices: Iterable[int]) -> None:
        for v in vertices:
            c = self.cost(v, self.mate[v])
            if c > 0:
                heappush(self._heap, (-c, self._count, v))
                self._count += 1

    def pop(self) -> int | None:
        """The vertex of the costliest waiting pair, or None when none is left."""
        heap = self._heap
        while heap:
            key, _, v = heappop(heap)
            c = self.cost(v, self.mate[v])
            if c == -key:
                return v
            self.extend((v,))
        return None
