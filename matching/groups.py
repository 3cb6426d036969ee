"""Groups of three or four: the sizes, a greedy start and a local search of swaps.

The score is the pair matcher's (:mod:`matching.costs`): every pair inside a
group is charged, so a group of four holds six pairs, none of them a repeat
when that can be avoided.

Sizes (:func:`group_sizes`) never leave anyone alone or in a pair when that
can be avoided: with groups of 3, a remainder of one makes one group of 4
and a remainder of two makes two groups of 4 (five people: a 3 and a 2);
with groups of 4, a remainder of three makes one group of 3, of two two
groups of 3, of one three groups of 3 (five people: one group of 5). With
``sit_out``, a remainder of one has one person sit out instead. One person
alone always sits out; two always make a pair.

The odd role: each group one larger than the size has one extra member, and
a person sitting out takes the role too. Roles go only to the people with
the fewest ``odd_turns`` (when more roles are needed than such people exist,
all of them take one and the rest go to the next fewest), so they rotate.

The search: people are dealt round the groups seat by seat, largest
organisation first (each seat takes the first of the next few who costs
nothing there), so every organisation spreads evenly; then members are swapped between
groups (or moved between a group of 3 and one of 4) while that lowers the
cost. Up to :data:`FULL_SCAN` people every person is a candidate and the
search restarts from :data:`RESTARTS` random starts, keeping the best; any
search stops as soon as it reaches a lower bound on the cost.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from random import Random

from matching.costs import PairCost
from matching.history import History
from matching.model import Grouping, Person
from matching.problem import Problem, build_problem

WINDOW = 16
SAMPLE = 24
FULL_SCAN = 200
RESTARTS = 12
RESTART_PEOPLE = 240
PASSES = 50


def group_sizes(people: int, size: int, sit_out: bool) -> list[int]:
    """The group sizes for ``people`` people (1 = sitting out); see the module docstring."""
    if people <= 2:
        return [people] if people else []
    whole, rest = divmod(people, size)
    if rest == 0:
        return [size] * whole
    if rest == 1 and sit_out:
        return [size] * whole + [1]
    if size == 3:
        if rest == 1:
            return [3] * (whole - 1) + [4]
        return [3, 2] if people == 5 else [3] * (whole - 2) + [4, 4]
    if people == 5:
        return [5]
    threes = 4 - rest
    return [4] * ((people - 3 * threes) // 4) + [3] * threes


def make_bigger_groups(people: Sequence[Person], history: History, seed: int, size: int,
                       sit_out: bool) -> Grouping:
    """Group everyone for one round in groups of ``size`` (3 or 4)."""
    problem = build_problem(people, history, pairs_per_person=2)
    if not problem.ids:
        return Grouping((), None, None, problem.weights.decode(0))
    rng = Random(seed)
    sizes = group_sizes(len(problem.ids), size, sit_out)
    roles = Roles.of([p.odd_turns for p in sorted(people, key=lambda p: p.id)],
                     sum(s == 1 or s > size for s in sizes))
    floor = lower_bound(problem, sizes)
    best = Search.start(problem, sizes, size, roles, rng, floor)
    best.improve()
    for _ in range(min(RESTARTS, RESTART_PEOPLE // len(problem.ids)) - 1):
        if best.total <= floor:
            break
        search = Search.start(problem, sizes, size, roles, rng, floor)
        search.improve()
        if search.total < best.total:
            best = search
    return best.grouping()


@dataclass(frozen=True, slots=True)
class Roles:
    """Who may take an odd role: ``forced`` people must (they have fewer turns than
    the rest), then ``eligible`` ones fill the remaining roles."""

    forced: list[int]
    eligible: list[bool]

    @classmethod
    def of(cls, turns: Sequence[int], count: int) -> Roles:
        if not count:
            return cls([], [False] * len(turns))
        level = sorted(turns)[count - 1]
        return cls([i for i, t in enumerate(turns) if t < level], [t == level for t in turns])


@dataclass
class Search:
    """One grouping of positions being improved: ``members`` per group, ``where`` per person."""

    cost: PairCost
    members: list[list[int]]
    where: list[int]
    role: list[bool]
    needs: list[bool]
    pinned: list[bool]
    eligible: list[bool]
    problem: Problem
    rng: Random
    size: int
    total: int = 0
    floor: int = 0
    group_cost: list[int] = field(default_factory=list)
    passed: list[int] = field(default_factory=list)

    @classmethod
    def start(cls, problem: Problem, sizes: list[int], size: int, roles: Roles, rng: Random,
              floor: int) -> Search:
        """The greedy start: role holders first, then largest organisation first."""
        count = len(problem.ids)
        role = [s == 1 or s > size for s in sizes]
        search = cls(problem.cost, [[] for _ in sizes], [-1] * count, role, list(role), [False] * count,
                     roles.eligible, problem, rng, size, group_cost=[0] * len(sizes))
        search.place_roles(roles, sizes)
        search.fill(sizes, largest_first(problem.orgs, search.where, rng))
        search.total = sum(search.group_cost)
        search.floor = floor
        return search

    def place_roles(self, roles: Roles, sizes: list[int]) -> None:
        """Forced people pinned to role groups of their own; an eligible person in each other."""
        slots = [g for g, r in enumerate(self.role) if r]
        self.rng.shuffle(slots)
        for person, g in zip(roles.forced, slots):
            self.put(person, g)
            self.pinned[person], self.needs[g] = True, False
        free = [i for i, ok in enumerate(roles.eligible) if ok]
        self.rng.shuffle(free)
        for g, person in zip((g for g in slots if self.needs[g]), free):
            self.put(person, g)

    def put(self, person: int, g: int) -> None:
        self.members[g].append(person)
        self.where[person] = g

    def fill(self, sizes: list[int], order: list[int]) -> None:
        """Deal ``order`` round the groups seat by seat, as cards are dealt: organisations come
        largest first, so each spreads as evenly as the groups allow. Each seat takes the first
        of the next :data:`WINDOW` people who costs nothing with the group, else the cheapest."""
        groups = list(range(len(sizes)))
        self.rng.shuffle(groups)
        self.passed, head = [0] * len(self.where), 0
        for seat in range(max(sizes, default=0)):
            for g in groups:
                if len(self.members[g]) <= seat < sizes[g]:
                    pick, added = self.pick(g, order, head)
                    order[head], order[pick] = order[pick], order[head]
                    self.put(order[head], g)
                    self.group_cost[g] += added
                    head += 1

    def pick(self, g: int, order: list[int], head: int) -> tuple[int, int]:
        """The position in ``order`` of the person seat ``head`` should take (see :meth:`fill`).

        Someone passed over :data:`WINDOW` times is taken anyway: whoever costs something
        everywhere would otherwise ride along at the front of every window."""
        members, cost = self.members[g], self.cost
        if self.passed[order[head]] >= WINDOW:
            return head, sum(cost(order[head], m) for m in members)
        self.passed[order[head]] += 1
        best, best_cost = head, -1
        for k in range(head, min(head + WINDOW, len(order))):
            person, added = order[k], 0
            for m in members:
                added += cost(person, m)
            if added == 0:
                return k, 0
            if best_cost < 0 or added < best_cost:
                best, best_cost = k, added
        return best, best_cost

    def cost_of(self, group: Sequence[int]) -> int:
        cost = self.cost
        return sum(cost(a, b) for k, a in enumerate(group) for b in group[k + 1:])

    def with_(self, person: int, others: Sequence[int], skip: int) -> int:
        """What ``person`` costs with ``others`` less ``skip``."""
        cost = self.cost
        return sum(cost(person, x) for x in others if x != skip and x != person)

    def improve(self) -> None:
        """Passes over the costly groups until one finds nothing or the floor is reached."""
        for _ in range(PASSES):
            costly = [g for g, c in enumerate(self.group_cost) if c > 0]
            self.rng.shuffle(costly)
            improved = False
            for g in costly:
                for a in list(self.members[g]):
                    if self.where[a] == g and not self.pinned[a]:
                        improved |= self.improve_member(a)
                    if self.total <= self.floor:
                        return
            if not improved:
                return

    def improve_member(self, a: int) -> bool:
        """The best swap or move of ``a`` among its candidates, applied if it lowers the cost."""
        g = self.where[a]
        here = self.with_(a, self.members[g], a)
        if here == 0:
            return False
        best = (0, -1, False)
        for b in self.candidates():
            h = self.where[b]
            if h == g or self.pinned[b]:
                continue
            delta = self.swap_delta(a, g, here, b, h)
            if delta < best[0] and self.swap_keeps_roles(a, g, b, h):
                best = (delta, b, False)
            if self.can_move(g, h):
                delta = self.with_(a, self.members[h], -1) - here
                if delta < best[0]:
                    best = (delta, b, True)
        delta, b, move = best
        if b < 0:
            return False
        self.move(a, self.where[b]) if move else self.swap(a, b)
        return True

    def candidates(self) -> Sequence[int]:
        count = len(self.where)
        if count <= FULL_SCAN:
            return range(count)
        rand = self.rng.random
        return [int(rand() * count) for _ in range(SAMPLE)]

    def swap_delta(self, a: int, g: int, here: int, b: int, h: int) -> int:
        there = self.with_(b, self.members[h], b)
        return (self.with_(b, self.members[g], a) - here) + (self.with_(a, self.members[h], b) - there)

    def swap_keeps_roles(self, a: int, g: int, b: int, h: int) -> bool:
        ok = self.eligible
        if ok[a] == ok[b]:
            return True
        loser, g_lost = (g, a) if ok[a] else (h, b)
        return not self.needs[loser] or any(ok[x] for x in self.members[loser] if x != g_lost)

    def can_move(self, g: int, h: int) -> bool:
        return (len(self.members[g]) == len(self.members[h]) + 1
                and not self.role[g] and not self.role[h])

    def swap(self, a: int, b: int) -> None:
        g, h = self.where[a], self.where[b]
        self.members[g][self.members[g].index(a)] = b
        self.members[h][self.members[h].index(b)] = a
        self.where[a], self.where[b] = h, g
        self.recount(g, h)

    def move(self, a: int, h: int) -> None:
        g = self.where[a]
        self.members[g].remove(a)
        self.put(a, h)
        self.recount(g, h)

    def recount(self, g: int, h: int) -> None:
        for x in (g, h):
            new = self.cost_of(self.members[x])
            self.total += new - self.group_cost[x]
            self.group_cost[x] = new

    def grouping(self) -> Grouping:
        """Ids, sorted groups, the extras and whoever sits out."""
        ids, extras, sitter, groups = self.problem.ids, [], None, []
        for g, group in enumerate(self.members):
            if len(group) == 1:
                sitter = ids[group[0]]
                continue
            if self.role[g]:
                extras.append(ids[self.extra_of(group)])
            groups.append(tuple(sorted(ids[i] for i in group)))
        groups.sort()
        return Grouping(tuple(groups), sitter, None, self.problem.weights.decode(self.total),
                        tuple(sorted(extras)))

    def extra_of(self, group: list[int]) -> int:
        pinned = [i for i in group if self.pinned[i]]
        return pinned[0] if pinned else self.rng.choice(sorted(i for i in group if self.eligible[i]))


def largest_first(orgs: Sequence[int], where: Sequence[int], rng: Random) -> list[int]:
    """Everyone not yet placed, grouped by organisation, largest first, each in random order."""
    sizes: dict[int, int] = {}
    for org in orgs:
        sizes[org] = sizes.get(org, 0) + 1
    ranked = sorted(sizes, key=lambda org: (-sizes[org], rng.random()))
    rank = {org: float(k) for k, org in enumerate(ranked)}
    rand = rng.random
    keys = [rank[org] + rand() for org in orgs]
    return sorted((i for i in range(len(orgs)) if where[i] < 0), key=keys.__getitem__)


def lower_bound(problem: Problem, sizes: list[int]) -> int:
    """No grouping into ``sizes`` costs less: the larger of the organisations' bound and,
    up to :data:`FULL_SCAN` people, the people's bound."""
    orgs = organisation_bound(problem.orgs, len(sizes)) * problem.weights.same_org
    return max(orgs, people_bound(problem.cost, sizes) if len(problem.ids) <= FULL_SCAN else 0)


def organisation_bound(orgs: Sequence[int], groups: int) -> int:
    """Same-organisation pairs no grouping avoids: each organisation spread as evenly as
    ``groups`` groups allow still puts ``q + 1`` of its people together in ``r`` of them."""
    pairs = 0
    for members in Counter(orgs).values():
        q, r = divmod(members, groups)
        pairs += r * (q + 1) * q // 2 + (groups - r) * q * (q - 1) // 2
    return pairs


def people_bound(cost: PairCost, sizes: list[int]) -> int:
    """Each person sits in at least (smallest size - 1) pairs, each no cheaper than their
    cheapest, and each pair has two ends."""
    count, seats = sum(sizes), min(sizes) - 1
    if seats <= 0:
        return 0
    ends = 0
    for i in range(count):
        ends += sum(sorted(cost(i, j) for j in range(count) if j != i)[:seats])
    return (ends + 1) // 2
