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
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from matching.costs import PairCost

Candidates = Callable[[int], Iterable[int]]


@dataclass
class CycleSearch:
    """Repairs ``mate`` in place; ``candidates(y)`` proposes new partners for y."""

    mate: list[int]
    cost: PairCost
    candidates: Candidates
    max_depth: int
    budget: int
    _nodes: int = field(default=0, init=False)
    _labels: dict[int, int] = field(default_factory=dict, init=False)

    def run(self, starts: Iterable[int]) -> int:
        """Repair from the pairs of ``starts`` until a sweep finds nothing; the total gain."""
        gain = 0
        pending = list(starts)
        while pending:
            improved, touched, stuck = self._sweep(pending)
            if not improved:
                break
            gain += improved
            pending = stuck + touched
        return gain

    def _sweep(self, pending: Sequence[int]) -> tuple[int, list[int], list[int]]:
        """One pass over the costly pairs in ``pending``: (gain, changed vertices, stuck)."""
        gain, touched, stuck, seen = 0, [], [], set()
        for s in pending:
            t = self.mate[s]
            if s in seen or t in seen or self.cost(s, t) <= 0:
                continue
            found = self._search(s, t) or self._search(t, s)
            if found is None:
                seen.update((s, t))
                stuck.append(s)
                continue
            gain += self._apply(*found)
            touched.extend(found[1])
        return gain, touched, stuck

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
        for a, b in pairs:
            mate[a], mate[b] = b, a
        return before - sum(cost(a, b) for a, b in pairs)
