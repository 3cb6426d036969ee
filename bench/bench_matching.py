"""Benchmark of matching.make_groups: quality and speed against an exact
maximum-weight matching and a naive shuffle, scale to 100,000 people, memory,
how much the draw varies with the seed, and skewed communities (one
organisation holding 50 % to all of the people) against two exact matchers,
networkx and rustworkx.

Run from the repository root::

    .venv/bin/python bench/bench_matching.py            # full: sections 1-3 a few minutes, 4-5 longer
    .venv/bin/python bench/bench_matching.py --quick    # a few minutes
    .venv/bin/python bench/bench_matching.py --skewed-only [exact|scale] [--quick]   # sections 4 and/or 5 alone
    .venv/bin/python bench/bench_matching.py --skewed-only exact --shares 60 --sizes 2000   # one shape, one size

Every number is measured in this run; see bench/README.md for the method.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching import Grouping, History, Person, Score, make_groups, score  # noqa: E402
from matching.problem import build_problem  # noqa: E402
from matching.solve import solve_heuristic  # noqa: E402

ORGS = 20
LARGEST_SHARE = 0.4
HISTORY_ROUNDS = 36
MET, NOT_MET = 0.8, 0.1  # the rest of the introductions stay unconfirmed (met=None)


# ---------------------------------------------------------------- instances

def org_sizes(n: int, share: float = LARGEST_SHARE) -> list[int]:
    """20 organisations: one with ``share`` of the people, the rest Zipf-like
    (one organisation only when the share is 100 %)."""
    largest = round(n * share)
    if largest >= n:
        return [n]
    weights = [1 / (k + 1) for k in range(ORGS - 1)]
    rest = [max(1, int((n - largest) * w / sum(weights))) for w in weights]
    rest[0] += n - largest - sum(rest)
    return [largest, *rest]


def community(n: int, seed: int = 1, share: float = LARGEST_SHARE) -> list[Person]:
    """n people with ids 0..n-1, organisations dealt at random."""
    orgs = [f"org{k:02d}" for k, size in enumerate(org_sizes(n, share)) for _ in range(size)]
    random.Random(seed).shuffle(orgs)
    return [Person(i, org) for i, org in enumerate(orgs)]


def record(history: History, groups: Sequence[tuple[int, ...]], round_no: int,
           rng: random.Random) -> None:
    """Add a round's pairs with random outcomes: met, not met or unconfirmed."""
    for group in groups:
        outcome = rng.random()
        met = True if outcome < MET else False if outcome < MET + NOT_MET else None
        for k, a in enumerate(group):
            for b in group[k + 1:]:
                history.record(a, b, round_no, met)


def shuffle_groups(people: Sequence[Person], seed: int) -> list[tuple[int, ...]]:
    """What a spreadsheet does: shuffle and pair neighbours (a trio at the end if odd)."""
    ids = [p.id for p in people]
    random.Random(seed).shuffle(ids)
    groups = [tuple(ids[k:k + 2]) for k in range(0, len(ids) - 1, 2)]
    if len(ids) % 2:
        groups[-1] += (ids[-1],)
    return groups


def timed(fn: Callable[[], Grouping]) -> tuple[Grouping, float, float]:
    """fn's result, CPU seconds and wall seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


# ---------------------------------------------------------------- exact reference

def exact_child(people: Sequence[Person], history: History, conn, solver: str = "networkx") -> None:
    """In a forked child: networkx's or rustworkx's max_weight_matching over
    lexicographic weights, maximum cardinality."""
    problem = build_problem(people, history)
    cost, top, n = problem.cost, problem.weights.forbidden, len(problem.ids)
    edges = [(i, j, top - cost(i, j)) for i in range(n) for j in range(i + 1, n)]
    start = time.process_time()
    if solver == "rustworkx":
        import rustworkx as rx

        graph = rx.PyGraph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(edges)
        built = time.process_time()
        pairs = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    else:
        import networkx as nx

        graph = nx.Graph()
        graph.add_weighted_edges_from(edges)
        built = time.process_time()
        pairs = nx.max_weight_matching(graph, maxcardinality=True)
    solved = time.process_time()
    ids = problem.ids
    conn.send(([(ids[a], ids[b]) for a, b in pairs], built - start, solved - built))


def exact(people: Sequence[Person], history: History, timeout: float, solver: str = "networkx"):
    """(pairs, build s, solve s) from a subprocess, or None after ``timeout`` seconds."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=exact_child, args=(people, history, child, solver))
    proc.start()
    try:
        result = parent.recv() if parent.poll(timeout) else None
    except EOFError:
        result = None
    proc.kill()
    proc.join()
    return result


# ---------------------------------------------------------------- section 1

@dataclass
class Comparison:
    n: int
    ours_cpu: list[float] = field(default_factory=list)
    ours_wall: list[float] = field(default_factory=list)
    ours: list[Score] = field(default_factory=list)
    shuffle: list[Score] = field(default_factory=list)
    exact: dict[int, Score] = field(default_factory=dict)
    exact_solve: dict[int, float] = field(default_factory=dict)
    exact_build: dict[int, float] = field(default_factory=dict)
    timeouts: list[int] = field(default_factory=list)


def compare(n: int, exact_rounds: set[int], timeout: float) -> Comparison:
    """Rounds 1..37 of one community: ours each round, exact on ``exact_rounds``."""
    people, history, rng = community(n), History(), random.Random(n)
    orgs = {p.id: p.org for p in people}
    out = Comparison(n)
    for round_no in range(1, HISTORY_ROUNDS + 2):
        grouping, cpu, wall = timed(lambda: make_groups(people, history, seed=round_no))
        out.ours.append(grouping.score)
        out.ours_cpu.append(cpu)
        out.ours_wall.append(wall)
        out.shuffle.append(score(shuffle_groups(people, round_no), history, orgs))
        if round_no in exact_rounds:
            result = exact(people, history, timeout)
            if result is None:
                out.timeouts.append(round_no)
            else:
                pairs, build, solve = result
                out.exact[round_no] = score(pairs, history, orgs)
                out.exact_build[round_no], out.exact_solve[round_no] = build, solve
        record(history, grouping.groups, round_no, rng)
    return out


def comparison_rows(results: list[Comparison]) -> list[str]:
    head = (f"{'n':>6} {'exact rounds':>12} {'ours ms':>10} {'exact s':>10} {'x faster':>9} "
            f"{'met rep o/e':>11} {'not-met o/e':>11} {'same-org o/e':>12} {'equal':>7} "
            f"{'ours=0':>6} {'shuffle rep':>11} {'shuffle same-org':>16}")
    return [head] + [comparison_row(r) for r in results]


def comparison_row(r: Comparison) -> str:
    rounds = sorted(r.exact)
    ours = [r.ours[k - 1] for k in rounds]
    exact_scores = [r.exact[k] for k in rounds]
    ratios = [r.exact_solve[k] / max(r.ours_cpu[k - 1], 1e-9) for k in rounds]

    def both(field_name: str) -> str:
        total = lambda scores: sum(getattr(s, field_name) for s in scores)
        return f"{total(ours)}/{total(exact_scores)}"

    equal = sum(o == e for o, e in zip(ours, exact_scores))
    zero = sum(s == (0, 0, 0, 0) for s in r.ours)
    shuffle_rep = statistics.mean(s.met_repeats + s.not_met_repeats for s in r.shuffle)
    shuffle_same = statistics.mean(s.same_org for s in r.shuffle)
    timeouts = f"+{len(r.timeouts)}t/o" if r.timeouts else ""
    ratio = f"{statistics.median(ratios):.0f}x" if ratios else "-"
    return (f"{r.n:>6} {str(len(rounds)) + timeouts:>12} {_med_max(r.ours_cpu, 1000):>10} "
            f"{_med_max(list(r.exact_solve.values()), 1):>10} {ratio:>9} "
            f"{both('met_repeats'):>11} {both('not_met_repeats'):>11} {both('same_org'):>12} "
            f"{f'{equal}/{len(rounds)}':>7} {f'{zero}/{len(r.ours)}':>6} {shuffle_rep:>11.1f} "
            f"{f'{shuffle_same:.1f} ({100 * shuffle_same / (r.n // 2):.0f}%)':>16}")


def _med_max(values: list[float], scale: float) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) * scale:.3g}/{max(values) * scale:.3g}"


# ---------------------------------------------------------------- section 2

def scale_child(n: int, rounds: int, repeats: int, share_percent: int = round(100 * LARGEST_SHARE)) -> dict:
    """Runs in a fresh interpreter: history of ``rounds`` rounds, then timed rounds."""
    people, history, rng = community(n, share=share_percent / 100), History(), random.Random(n)
    build_cpu = 0.0
    for round_no in range(1, rounds + 1):
        grouping, cpu, _ = timed(lambda: make_groups(people, history, seed=round_no))
        build_cpu += cpu
        record(history, grouping.groups, round_no, rng)
    runs = [timed(lambda: make_groups(people, history, seed=1000 + k)) for k in range(repeats)]
    tracemalloc.start()
    make_groups(people, history, seed=999)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    work = pair_costs(people, history, seed=998)
    return {
        "n": n, "history_pairs": len(history), "history_rounds": rounds,
        "cpu": [r[1] for r in runs], "wall": [r[2] for r in runs],
        "scores": [list(r[0].score) for r in runs], "mean_round_cpu": build_cpu / max(rounds, 1),
        "tracemalloc_peak_mb": peak / 2**20, "pair_costs": work,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def pair_costs(people: Sequence[Person], history: History, seed: int) -> int:
    """How many pair costs one draw evaluates: the work, whatever the machine's load."""
    problem = build_problem(people, history)
    calls, cost = [0], problem.cost

    def counted(i: int, j: int) -> int:
        calls[0] += 1
        return cost(i, j)

    solve_heuristic(dataclasses.replace(problem, cost=counted), random.Random(seed), True)
    return calls[0]


def scale(n: int, rounds: int, repeats: int, share: float = LARGEST_SHARE) -> dict:
    cmd = [sys.executable, __file__, "--scale-child", str(n), str(rounds), str(repeats),
           str(round(100 * share))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def scale_rows(results: list[dict]) -> list[str]:
    rows = [f"{'n':>8} {'history pairs':>13} {'cpu s med/max':>14} {'wall s med/max':>15} "
            f"{'repeats+same-org':>16} {'tracemalloc MB':>14} {'maxrss MB':>9}"]
    for r in results:
        bad = sum(s[0] + s[2] + s[3] for s in r["scores"])
        rows.append(f"{r['n']:>8} {r['history_pairs']:>13,} {_med_max(r['cpu'], 1):>14} "
                    f"{_med_max(r['wall'], 1):>15} {bad:>16} {r['tracemalloc_peak_mb']:>14.0f} "
                    f"{r['maxrss_mb']:>9.0f}")
    return rows


# ---------------------------------------------------------------- section 3

def variety(n: int, seeds: int) -> list[str]:
    """How different the draws of different seeds are, on a community with full history."""
    people, history, rng = community(n), History(), random.Random(n)
    for round_no in range(1, HISTORY_ROUNDS + 1):
        record(history, make_groups(people, history, seed=round_no).groups, round_no, rng)
    org = {p.id: p.org for p in people}
    draws = [make_groups(people, history, seed=s).groups for s in range(seeds)]
    pair_sets = [set(d) for d in draws]
    overlaps = [len(a & b) / len(a) for k, a in enumerate(pair_sets) for b in pair_sets[k + 1:]]
    partners: dict[int, set[int]] = {p.id: set() for p in people}
    for groups in draws:
        for a, b in groups:
            partners[a].add(b)
            partners[b].add(a)
    rows = [f"community n={n}, {HISTORY_ROUNDS} rounds of history, {seeds} seeds",
            f"  pairs shared by two seeds: mean {100 * statistics.mean(overlaps):.2f}%, "
            f"max {100 * max(overlaps):.2f}%",
            f"  distinct partners per person over the {seeds} draws: "
            f"mean {statistics.mean(len(v) for v in partners.values()):.1f}, "
            f"min {min(len(v) for v in partners.values())}"]
    return rows + org_concentration(draws, org, n)


def org_concentration(draws: list[tuple[tuple[int, ...], ...]], org: dict[int, str],
                      n: int) -> list[str]:
    """Per organisation: how its partner organisations spread, within and across seeds."""
    sizes = Counter(org.values())
    per_seed: dict[str, list[Counter]] = {o: [] for o in sizes}
    for groups in draws:
        counts: dict[str, Counter] = {o: Counter() for o in sizes}
        for a, b in groups:
            counts[org[a]][org[b]] += 1
            counts[org[b]][org[a]] += 1
        for o in sizes:
            per_seed[o].append(counts[o])
    rows = [f"  {'org':>6} {'size':>5} {'partner orgs per seed':>21} {'all seeds':>9} "
            f"{'top partner org':>15} {'its share':>9} {'share min-max over seeds':>24} "
            f"{'seeds with one partner org':>26}"]
    for o, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        total = sum(per_seed[o], Counter())
        top, top_count = total.most_common(1)[0]
        shares = [c[top] / sum(c.values()) for c in per_seed[o]]
        single = sum(len(c) == 1 for c in per_seed[o])
        rows.append(f"  {o:>6} {size:>5} {statistics.mean(len(c) for c in per_seed[o]):>21.1f} "
                    f"{len(total):>9} {top:>15} {100 * top_count / sum(total.values()):>8.0f}% "
                    f"{f'{100 * min(shares):.0f}-{100 * max(shares):.0f}%':>24} "
                    f"{f'{single}/{len(draws)}':>26}")
    return rows


# ---------------------------------------------------------------- section 4

SKEWED_SHARES = (0.5, 0.6, 0.9, 1.0)
FRESH_SEEDS = 5


@dataclass
class Skewed:
    """One shape and size: ours against both exact matchers on each instance solved exactly."""

    share: float
    n: int
    history: bool
    ours_cpu: dict[int, float] = field(default_factory=dict)
    ours: dict[int, Score] = field(default_factory=dict)
    exact: dict[int, Score] = field(default_factory=dict)
    nx_solve: dict[int, float] = field(default_factory=dict)
    rx_solve: dict[int, float] = field(default_factory=dict)
    rx_equal: int = 0
    timeouts: int = 0
    timeout: float = 0.0


def skewed(share: float, n: int, exact_rounds: set[int], timeout: float, history: bool) -> Skewed:
    """Without history: FRESH_SEEDS draws of one empty-history instance. With history:
    rounds 1..37, each seeing the earlier ones, solved exactly on ``exact_rounds``."""
    people, past, rng = community(n, share=share), History(), random.Random(n)
    orgs = {p.id: p.org for p in people}
    out = Skewed(share, n, history, timeout=timeout)
    rounds = range(1, HISTORY_ROUNDS + 2) if history else range(1, FRESH_SEEDS + 1)
    solved: tuple | None = None
    for round_no in rounds:
        grouping, cpu = steady(lambda: make_groups(people, past, seed=round_no))
        if not history or round_no in exact_rounds:
            if solved is None or history:
                solved = exact_both(people, past, orgs, timeout)
            if solved is None:
                out.timeouts += 1
            else:
                out.ours_cpu[round_no], out.ours[round_no] = cpu, grouping.score
                out.exact[round_no], out.nx_solve[round_no], out.rx_solve[round_no], same = solved
                out.rx_equal += same
        if history:
            record(past, grouping.groups, round_no, rng)
    return out


def steady(fn: Callable[[], Grouping], repeats: int = 5) -> tuple[Grouping, float]:
    """fn's result and the median CPU seconds of ``repeats`` identical runs: ours takes
    under a millisecond at 200 people, where one run on a loaded machine is mostly noise."""
    runs = [timed(fn) for _ in range(repeats)]
    assert all(r[0] == runs[0][0] for r in runs)
    return runs[0][0], statistics.median(r[1] for r in runs)


def exact_both(people: Sequence[Person], history: History, orgs: dict[int, str],
               timeout: float) -> tuple[Score, float, float, bool] | None:
    """(the optimum, networkx solve s, rustworkx solve s, both optima equal); a matcher that
    timed out counts as ``timeout`` seconds (a lower bound on its time), None if both did."""
    by_nx = exact(people, history, timeout, "networkx")
    by_rx = exact(people, history, timeout, "rustworkx")
    if by_nx is None and by_rx is None:
        return None
    scores = [score(found[0], history, orgs) for found in (by_nx, by_rx) if found is not None]
    solve = [found[2] if found is not None else timeout for found in (by_nx, by_rx)]
    return scores[0], solve[0], solve[1], len(scores) == 2 and scores[0] == scores[1]


def _at_least(times, timeout: float) -> str:
    median = statistics.median(times)
    return f">{timeout:.0f}" if median >= timeout else f"{median:.3g}"


def _ratios(ratios: list[float], timed_out: bool) -> str:
    mark = ">" if timed_out else ""
    return f"{mark}{min(ratios):.0f}x/{statistics.median(ratios):.0f}x"


def skewed_rows(results: list[Skewed]) -> list[str]:
    rows = [f"{'largest':>7} {'n':>5} {'history':>7} {'solved':>6} {'ours ms med/max':>15} "
            f"{'networkx s':>10} {'rustworkx s':>11} {'x rustworkx min/med':>19} "
            f"{'x networkx min/med':>18} {'equal':>6} {'same-org o/e':>13} {'rx=nx':>5}"]
    for r in results:
        keys = sorted(r.ours)
        if not keys:
            rows.append(f"{r.share:>7.0%} {r.n:>5} {'36 rnds' if r.history else 'none':>7}   all timed out")
            continue
        ours = [r.ours_cpu[k] for k in keys]
        vs_rx = [r.rx_solve[k] / max(r.ours_cpu[k], 1e-9) for k in keys]
        vs_nx = [r.nx_solve[k] / max(r.ours_cpu[k], 1e-9) for k in keys]
        equal = sum(r.ours[k] == r.exact[k] for k in keys)
        same = f"{sum(r.ours[k].same_org for k in keys)}/{sum(r.exact[k].same_org for k in keys)}"
        rows.append(
            f"{r.share:>7.0%} {r.n:>5} {'36 rnds' if r.history else 'none':>7} "
            f"{len(keys):>6}{'+' + str(r.timeouts) + 't/o' if r.timeouts else ''} "
            f"{_med_max(ours, 1000):>15} {_at_least(r.nx_solve.values(), r.timeout):>10} "
            f"{_at_least(r.rx_solve.values(), r.timeout):>11} "
            f"{_ratios(vs_rx, r.timeout in r.rx_solve.values()):>19} "
            f"{_ratios(vs_nx, r.timeout in r.nx_solve.values()):>18} "
            f"{f'{equal}/{len(keys)}':>6} {same:>13} {f'{r.rx_equal}/{len(keys)}':>5}")
    return rows


def skewed_scale_rows(results: list[tuple[float, dict]]) -> list[str]:
    rows = [f"{'largest':>7} {'n':>8} {'history':>7} {'cpu s med/max':>14} {'x previous n':>12} "
            f"{'repeats':>7} {'same-org':>9} {'pair costs/person':>17} {'maxrss MB':>9}"]
    previous: dict[tuple[float, int], float] = {}
    for share, r in results:
        med = statistics.median(r["cpu"])
        key = (share, r["history_rounds"])
        growth = f"{med / previous[key]:.1f}x" if key in previous else "-"
        previous[key] = med
        rows.append(f"{share:>7.0%} {r['n']:>8,} {r['history_rounds']:>7} {_med_max(r['cpu'], 1):>14} "
                    f"{growth:>12} {sum(s[0] + s[2] for s in r['scores']):>7} "
                    f"{statistics.median(s[3] for s in r['scores']):>9.0f} "
                    f"{r.get('pair_costs', 0) / r['n']:>17.2f} {r['maxrss_mb']:>9.0f}")
    return rows


def run_skewed(quick: bool, timeout: float, sections: str = "both",
               shares: Sequence[float] = SKEWED_SHARES, sizes: set[int] | None = None) -> None:
    if sections in ("both", "exact"):
        run_skewed_exact(quick, timeout, shares, sizes)
    if sections in ("both", "scale"):
        run_skewed_scale(quick, shares)


def run_skewed_exact(quick: bool, timeout: float, shares: Sequence[float],
                     sizes: set[int] | None = None) -> None:
    last = HISTORY_ROUNDS + 1
    plan = ({200: {2, 19, last}, 1000: {2, last}} if quick else
            {200: {2, 19, last}, 500: {2, last}, 1000: {2, last}, 2000: {last}})
    plan = {n: rounds for n, rounds in plan.items() if sizes is None or n in sizes}
    print(f"\n4. skewed communities ({'quick' if quick else 'full'}; load average "
          f"{os.getloadavg()[0]:.1f}): the largest organisation holds 50, 60, 90 or 100 % "
          f"(100 %: one organisation), the rest in 19 organisations, Zipf-like")
    print(f"   none = {FRESH_SEEDS} seeds on an empty history; 36 rnds = rounds 1..37 as in section 1, "
          "solved exactly on some of them; exact = networkx and rustworkx max_weight_matching")
    print("   (max cardinality, solve time only); ours = the median of 5 identical runs; 'x rustworkx' = "
          "its solve time / ours, per instance: the least and the median; 'equal' = ours scored the "
          "same as the exact optimum; rx=nx: both exact matchers found the same score")
    print(skewed_rows([])[0], flush=True)
    for share in shares:
        for n, rounds in plan.items():
            for history in (False, True):
                print(skewed_rows([skewed(share, n, rounds, timeout, history)])[1], flush=True)


def run_skewed_scale(quick: bool, shares: Sequence[float]) -> None:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    print(f"\n5. scale on skewed communities: round 1 (no history) and round {HISTORY_ROUNDS + 1} after "
          f"{HISTORY_ROUNDS} rounds, 5 seeds each, each in a fresh process; 'x previous n' = "
          "median time / the median at the size ten times smaller")
    runs: list[tuple[float, dict]] = []
    print(skewed_scale_rows([])[0], flush=True)
    for share in shares:
        for rounds in (0, HISTORY_ROUNDS):
            for n in sizes:
                runs.append((share, scale(n, rounds, 5, share)))
                print(skewed_scale_rows(runs)[-1], flush=True)

# ---------------------------------------------------------------- section 4: meeting preferences (issue 16)

WEEKLY = [frozenset(d * 24 + h for d in days for h in hours)
          for days in ((0, 1, 2, 3, 4), (1, 3), (0, 2, 4)) for hours in (range(8, 12), range(13, 17), range(8, 17))]
TOWNS = ["leeds", "london", "bristol", "york", "glasgow", "cardiff", "belfast", "newcastle"]
MEETING_SHARE = 0.3


def meeting_community(n: int, share: float = MEETING_SHARE, seed: int = 1) -> list[Person]:
    """``community(n)`` where a share of people say when and how they can meet: free hours from
    nine weekly patterns (or any time), a mode (online, in person, either or none) and, for those
    who would meet in person and a few others, one of eight towns (Zipf-like)."""
    rng = random.Random(seed * 7 + n)
    people = []
    for p in community(n, seed):
        if rng.random() < share:
            mode = rng.choice(["online", "online", "in_person", "either", "either", ""])
            place = (rng.choices(TOWNS, weights=[1 / (k + 1) for k in range(len(TOWNS))])[0]
                     if mode in ("in_person", "either") or rng.random() < 0.2 else "")
            p = replace(p, slots=rng.choice([*WEEKLY, frozenset()]), mode=mode, place=place)
        people.append(p)
    return people


def compare_meeting(n: int, exact_rounds: set[int], timeout: float) -> Comparison:
    """As :func:`compare`, on a community with meeting preferences, scored with all seven tiers."""
    people, history, rng = meeting_community(n), History(), random.Random(n)
    orgs = {p.id: p.org for p in people}
    out = Comparison(n)
    for round_no in range(1, HISTORY_ROUNDS + 2):
        grouping, cpu, wall = timed(lambda: make_groups(people, history, seed=round_no))
        out.ours.append(grouping.score)
        out.ours_cpu.append(cpu)
        out.ours_wall.append(wall)
        out.shuffle.append(score(shuffle_groups(people, round_no), history, orgs, people))
        if round_no in exact_rounds:
            result = exact(people, history, timeout)
            if result is None:
                out.timeouts.append(round_no)
            else:
                pairs, build, solve = result
                out.exact[round_no] = score(pairs, history, orgs, people)
                out.exact_build[round_no], out.exact_solve[round_no] = build, solve
        record(history, grouping.groups, round_no, rng)
    return out


def meeting_rows(results: list[Comparison]) -> list[str]:
    head = (f"{'n':>6} {'exact rounds':>12} {'ours ms':>10} {'exact s':>10} {'x faster':>9} {'equal':>7} "
            f"{'clash o/e':>9} {'no-overlap o/e':>14} {'apart o/e':>9} {'shuffle clash, no-overlap, apart':>32}")
    rows = [head]
    for r in results:
        rounds = sorted(r.exact)
        ours, ex = [r.ours[k - 1] for k in rounds], [r.exact[k] for k in rounds]
        ratios = [r.exact_solve[k] / max(r.ours_cpu[k - 1], 1e-9) for k in rounds]
        tier = lambda scores, name: sum(getattr(s, name) for s in scores)
        both = lambda name: f"{tier(ours, name)}/{tier(ex, name)}"
        shuffle = ", ".join(f"{statistics.mean(getattr(s, name) for s in r.shuffle):.1f}"
                            for name in ("mode_clash", "no_overlap", "in_person_missed"))
        rows.append(f"{r.n:>6} {str(len(rounds)) + (f'+{len(r.timeouts)}t/o' if r.timeouts else ''):>12} "
                    f"{_med_max(r.ours_cpu, 1000):>10} {_med_max(list(r.exact_solve.values()), 1):>10} "
                    f"{(f'{statistics.median(ratios):.0f}x' if ratios else '-'):>9} "
                    f"{f'{sum(o == e for o, e in zip(ours, ex))}/{len(rounds)}':>7} {both('mode_clash'):>9} "
                    f"{both('no_overlap'):>14} {both('in_person_missed'):>9} "
                    f"{shuffle:>32}")
    return rows


def meeting_scale_child(n: int, rounds: int, repeats: int) -> dict:
    """In a fresh interpreter: as :func:`scale_child`, with meeting preferences."""
    people, history, rng = meeting_community(n), History(), random.Random(n)
    for round_no in range(1, rounds + 1):
        record(history, make_groups(people, history, seed=round_no).groups, round_no, rng)
    runs = [timed(lambda: make_groups(people, history, seed=1000 + k)) for k in range(repeats)]
    return {"n": n, "history_pairs": len(history), "history_rounds": rounds, "cpu": [r[1] for r in runs],
            "wall": [r[2] for r in runs], "scores": [list(r[0].score) for r in runs],
            "tracemalloc_peak_mb": 0.0, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def meeting_section(quick: bool, timeout: float, only: set[int] | None = None) -> None:
    """`only`: just these sizes (of 200, 500, 1000, 2000 against exact, and 10,000 and 100,000 at scale)."""
    all_rounds = set(range(1, HISTORY_ROUNDS + 2))
    sampled = {1, *range(4, HISTORY_ROUNDS + 2, 4), HISTORY_ROUNDS + 1}
    plan = ({200: all_rounds, 500: sampled} if quick else
            {200: all_rounds, 500: all_rounds, 1000: all_rounds, 2000: sampled})
    plan = {n: rounds for n, rounds in plan.items() if only is None or n in only}
    print(f"\n4. pairs with meeting preferences: {MEETING_SHARE:.0%} of people state free hours, a mode "
          "and/or a place (meeting_community); ours vs exact on the same seven-tier cost")
    print("   'apart' = in_person_missed; the first four tiers as in section 1 (all 0 here for both)")
    print("\n".join(meeting_rows([compare_meeting(n, rounds, timeout) for n, rounds in plan.items()])))
    sizes = [(10_000, HISTORY_ROUNDS, 5)] + ([] if quick else [(100_000, HISTORY_ROUNDS, 5)])
    sizes = [size for size in sizes if only is None or size[0] in only]
    print(f"\n   scale with preferences: round {HISTORY_ROUNDS + 1}, 5 seeds, fresh processes")
    results = [json.loads(subprocess.run([sys.executable, __file__, "--meeting-child", *map(str, s)], check=True,
                                         capture_output=True, text=True).stdout) for s in sizes]
    print("\n".join(scale_rows(results)))


# ---------------------------------------------------------------- section 5: groups of 3 and 4 (issue 16)

def groups_child(n: int, size: int, rounds: int, repeats: int) -> dict:
    """In a fresh interpreter: ``rounds`` rounds of groups of ``size`` as history, then timed draws,
    with the same-organisation lower bound of matching.groups."""
    from matching.groups import group_sizes, organisation_bound
    from matching.problem import build_problem

    people, history, rng = community(n), History(), random.Random(n)
    for round_no in range(1, rounds + 1):
        record(history, make_groups(people, history, seed=round_no, size=size).groups, round_no, rng)
    runs = [timed(lambda: make_groups(people, history, seed=1000 + k, size=size)) for k in range(repeats)]
    groups = len(group_sizes(n, size, False))
    return {"n": n, "size": size, "history_pairs": len(history), "cpu": [r[1] for r in runs],
            "scores": [list(r[0].score) for r in runs],
            "same_org_bound": organisation_bound(build_problem(people, history).orgs, groups),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def brute_force_groups(people: Sequence[Person], history: History, size: int) -> Score:
    """The least score over every partition of ``people`` (a multiple of ``size``) into groups of
    ``size``, on the matcher's own encoded pair cost (dynamic programming over subsets)."""
    import functools
    from itertools import combinations

    from matching.problem import build_problem

    problem = build_problem(people, history, pairs_per_person=2)
    cost, n = problem.cost, len(problem.ids)

    @functools.cache
    def best(mask: int) -> int:
        if not mask:
            return 0
        low = (mask & -mask).bit_length() - 1
        rest = [i for i in range(n) if mask >> i & 1 and i != low]
        return min(sum(cost(a, b) for a, b in combinations((low, *others), 2))
                   + best(mask & ~(1 << low) & ~sum(1 << i for i in others))
                   for others in combinations(rest, size - 1))

    return problem.weights.decode(best((1 << n) - 1))


def small_groups(size: int, n: int, rounds: int) -> list[str]:
    """Ours vs brute force, round after round, on a small community of four organisations."""
    people, history, rng = [Person(i, f"org{i % 4}") for i in range(n)], History(), random.Random(n)
    equal, worse = 0, []
    for round_no in range(1, rounds + 1):
        ours = make_groups(people, history, seed=round_no, size=size)
        best = brute_force_groups(people, history, size)
        equal += ours.score == best
        if ours.score != best:
            worse.append((round_no, tuple(ours.score)[:4], tuple(best)[:4]))
        record(history, ours.groups, round_no, rng)
    return [f"   groups of {size}, n={n}: {equal}/{rounds} rounds equal to brute force" +
            (f"; differing: {worse}" if worse else "")]


def groups_section(quick: bool) -> None:
    print("\n5. groups of 3 and 4 (make_groups(size=3 or 4)); history made by the same matcher; "
          "5 seeds per size, fresh processes")
    print(f"{'size':>4} {'n':>8} {'history':>8} {'history pairs':>13} {'cpu s med/max':>14} "
          f"{'repeats':>7} {'same-org ours/bound':>19} {'maxrss MB':>9}")
    plan = [(1_000, HISTORY_ROUNDS), (10_000, HISTORY_ROUNDS)] + ([] if quick else [(100_000, 12)])
    for size in (3, 4):
        for n, rounds in plan:
            cmd = [sys.executable, __file__, "--groups-child", str(n), str(size), str(rounds), "5"]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            repeats = sum(s[0] + s[2] for s in r["scores"])
            same = statistics.median(s[3] for s in r["scores"])
            same_org = f"{same:.0f}/{r['same_org_bound']}"
            print(f"{size:>4} {n:>8,} {rounds:>8} {r['history_pairs']:>13,} {_med_max(r['cpu'], 1):>14} "
                  f"{repeats:>7} {same_org:>19} {r['maxrss_mb']:>9.0f}")
    print("\n   small communities against a brute force on the same cost (every round made by ours):")
    for size, n in ((3, 12), (4, 12)):
        print("\n".join(small_groups(size, n, 4 if quick else 8)))


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds allowed to one exact solve (default 180)")
    parser.add_argument("--skewed-only", nargs="?", const="both", choices=["both", "exact", "scale"],
                        help="only the skewed communities: sections 4 and 5, or one of them")
    parser.add_argument("--shares", type=lambda text: tuple(float(x) / 100 for x in text.split(",")),
                        default=SKEWED_SHARES, help="largest organisation's shares in %% for the "
                        "skewed sections, comma-separated (default 50,60,90,100)")
    parser.add_argument("--sizes", type=lambda text: {int(x) for x in text.split(",")},
                        help="section 4 (or with --only meeting, the meeting section) only at these sizes, "
                        "comma-separated (of 200,500,1000,2000; the meeting section also 10000,100000)")
    parser.add_argument("--only", choices=["pairs", "meeting", "groups"],
                        help="run one part: sections 1-3 (pairs), meeting preferences or groups of 3 and 4")
    parser.add_argument("--scale-child", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--meeting-child", nargs=3, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--groups-child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child or args.meeting_child or args.groups_child:
        child = scale_child if args.scale_child else meeting_scale_child if args.meeting_child else groups_child
        print(json.dumps(child(*(args.scale_child or args.meeting_child or args.groups_child))))
        return
    if args.skewed_only:
        run_skewed(args.quick, args.timeout, args.skewed_only, args.shares, args.sizes)
        return
    if args.only in (None, "pairs"):
        run(args.quick, args.timeout)
    if args.only in (None, "meeting"):
        meeting_section(args.quick, args.timeout, args.sizes)
    if args.only in (None, "groups"):
        groups_section(args.quick)
    if args.only is None:
        run_skewed(args.quick, args.timeout, "both", args.shares, args.sizes)


def run(quick: bool, timeout: float) -> None:
    all_rounds = set(range(1, HISTORY_ROUNDS + 2))
    sampled = {1, *range(4, HISTORY_ROUNDS + 2, 4), HISTORY_ROUNDS + 1}
    plan = ({200: all_rounds, 500: sampled} if quick else
            {200: all_rounds, 500: all_rounds, 1000: all_rounds, 2000: sampled})
    print(f"unmentoring matching benchmark ({'quick' if quick else 'full'}); python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} at start")
    print(f"communities: {ORGS} organisations, the largest holding {LARGEST_SHARE:.0%}; rounds 1..{HISTORY_ROUNDS + 1} "
          f"each pair everyone, round r seeing the r-1 earlier rounds made by make_groups itself "
          f"(outcomes {MET:.0%} met, {NOT_MET:.0%} not met, rest unconfirmed)")
    print("times are CPU seconds of the process doing the work (time.process_time); wall times in section 2\n")
    dense_sizes = (40, 60)
    print("1. ours vs exact (networkx max_weight_matching, maxcardinality, weights encoding the "
          "lexicographic score; solve time only, graph build excluded) vs naive shuffle")
    print(f"   exact runs in a subprocess with a {timeout:.0f} s limit; repeats and same-org are "
          "summed over the rounds solved exactly; 'equal' = rounds where the full scores are equal;")
    print("   'ours=0' = rounds where ours scored (0,0,0,0), optimal whatever the exact solver says;"
          " shuffle columns are means per round over all rounds")
    results = [compare(n, rounds, timeout) for n, rounds in plan.items()]
    print("\n".join(comparison_rows(results)))
    print(f"\n   small communities, where {HISTORY_ROUNDS} rounds make repeats unavoidable "
          "(> 20 people, so the heuristic path, not the exact one):")
    print("\n".join(comparison_rows([compare(n, all_rounds, timeout) for n in dense_sizes])))
    sizes = [(10_000, HISTORY_ROUNDS, 5)] + ([] if quick else [(100_000, HISTORY_ROUNDS, 5)])
    print(f"\n2. scale: round {HISTORY_ROUNDS + 1} after {HISTORY_ROUNDS} rounds of history, 5 seeds, "
          "each size in a fresh process (maxrss includes the history and the people)")
    print("\n".join(scale_rows([scale(*s) for s in sizes])))
    print("\n3. variety across seeds")
    print("\n".join(variety(500 if quick else 2000, 20)))


if __name__ == "__main__":
    main()
