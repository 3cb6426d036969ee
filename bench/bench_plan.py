"""Benchmark of a draw read from the database: `rounds.lifecycle.plan` at 100,000 people.

    .venv/bin/python bench/bench_plan.py                     # 100,000 people, 36 rounds, SQLite then PostgreSQL
    .venv/bin/python bench/bench_plan.py --people 1000 10000 100000   # the scaling, one fresh database per size
    .venv/bin/python bench/bench_plan.py --people 10000 --rounds 12 --no-postgres

Targets (from the issues): the matching itself at most 1 s, at most 5 s including
loading the history from the database, peak memory at most 1 GB; loading the history
at most 2x the matching itself, measured in the same run (issue 15).

Method. Setup, not timed: a fresh database (a SQLite file in a temp dir; a
database in a throwaway PostgreSQL cluster from tests/harness/postgres.py when
its binaries are present), migrated with `models.db.upgrade` as `unmentoring init`
does, then filled with bulk Core inserts (explicit ids, executemany):

- N active participants in 20 organisations (one with 40%, the rest Zipf-like,
  `bench_matching.org_sizes`), emails at the organisations' domains, 0.5% of them
  with `skip_next`; plus 2% more who are paused (read past by the status filter);
- R closed rounds, each made by `matching.make_groups` itself on the in-memory
  history of the earlier rounds (realistic draws, not a random pairing): in each
  round 0.1-0.3% of people sit out with reason "skip", so the count is often odd
  and a trio (odd_one_id) is made; every sixth round uses odd="sit_out" instead,
  giving sit-outs with reason "odd";
- one outcome per match for 90% of them (80% met, 10% not met, the other 10% never
  reported); 30% of the reported matches get a second, later report from another
  member, which disagrees one time in ten (the latest report counts).

Then the stored index of past pairs (`rounds.pair_index`) is worked out from those
matches by `rebuild`, as migration 0013 does for an existing database; the service keeps
it in step as rounds are drawn and reports come in, which leaves the same rows.
PostgreSQL then gets ANALYZE (autovacuum would do it on a live server); SQLite is
left as the app leaves it. Timed, each in a fresh interpreter so nothing is cached
in Python: `plan(session, settings)` end to end (`--repeats` processes, median
reported) with the process's peak RSS (`ru_maxrss`, which includes the
interpreter and its imports); and in one more process each stage on its own, in
plan's order: eligible(), people_for_matching() (of which odd_turns() alone),
past_pairs() (the stored index loaded), and make_groups on that index (the matching
alone, as in bench_matching.py), these two the median of three calls each; then
history_from_matches(), the history rebuilt from every match as each draw did before,
which must equal the stored index, and make_groups on that dict (the draw must be the
same; its time shows what searching the stored arrays costs the matching). The
database files are in the OS page cache by then (they were just written): this is a
server's steady state, not a cold start.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, Table, insert, text  # noqa: E402

import config  # noqa: E402
from bench_matching import ORGS, org_sizes  # noqa: E402
from matching import Grouping, History, Person, make_groups, organisation_key  # noqa: E402
from models import Match, MatchMember, Outcome, Participant, Round, SitOut, Status  # noqa: E402
from models.db import make_engine, sessions, upgrade  # noqa: E402
from rounds.history import eligible, history_from_matches, odd_turns, people_for_matching  # noqa: E402
from rounds.lifecycle import plan  # noqa: E402
from rounds.pair_index import past_pairs, rebuild  # noqa: E402
from tests.harness.postgres import Postgres, postgres_available  # noqa: E402

TARGET_TOTAL_S, TARGET_MATCHING_S, TARGET_RSS_MB, TARGET_LOAD_RATIO = 5.0, 1.0, 1024.0, 2.0
MET, NOT_MET = 0.8, 0.1
SECOND_REPORT, FLIP = 0.3, 0.1
SKIP_NEXT, PAUSED = 0.005, 0.02
SKIP_ROUND = (0.001, 0.003)
SIT_OUT_EVERY = 6
START = datetime(2023, 1, 9, 9, tzinfo=timezone.utc)
T = TypeVar("T")


# ---------------------------------------------------------------- community

def domains() -> list[str]:
    """One domain per organisation; the first few public-sector, so subdomains fold into them."""
    return [f"org{k:02d}.gov.uk" if k % 2 == 0 else f"org{k:02d}-ltd.com" for k in range(ORGS)]


def email_for(pid: int, domain: str, rng: random.Random) -> str:
    sub = "digital." if domain.endswith(".gov.uk") and rng.random() < 0.3 else ""
    return f"person{pid}@{sub}{domain}"


def participant_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """n active people (ids 1..n) dealt at random into the organisations, then the paused ones."""
    orgs = [d for d, size in zip(domains(), org_sizes(n)) for _ in range(size)]
    rng.shuffle(orgs)
    paused = int(n * PAUSED)
    orgs += [rng.choice(domains()) for _ in range(paused)]
    rows = []
    for pid, domain in enumerate(orgs, start=1):
        joined = START - timedelta(days=rng.randrange(1, 60))
        rows.append({
            "id": pid, "email": email_for(pid, domain, rng), "name": f"Person {pid}", "organisation": "",
            "role": "", "phone": "", "video": "", "links": "", "bio": "",
            "status": Status.ACTIVE if pid <= n else Status.PAUSED, "reply_token": f"r{pid:031x}",
            "campaign": "", "bounce_score": 0, "skip_next": pid <= n and rng.random() < SKIP_NEXT,
            "paused_until": None, "created_at": joined, "updated_at": joined, "confirmed_at": joined,
        })
    return rows


# ---------------------------------------------------------------- rounds

@dataclass
class Ids:
    match: int = 0
    member: int = 0
    outcome: int = 0
    sit_out: int = 0

    def next(self, name: str) -> int:
        setattr(self, name, getattr(self, name) + 1)
        return int(getattr(self, name))


@dataclass
class RoundRows:
    round: dict[str, Any]
    matches: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    sit_outs: list[dict[str, Any]] = field(default_factory=list)


def draw(number: int, active: list[int], org: dict[int, str], turns: Counter[int], history: History,
         rng: random.Random) -> tuple[Grouping, list[int]]:
    """The round's groups by make_groups, after a few people chose to skip it."""
    skipping = set(rng.sample(active, int(len(active) * rng.uniform(*SKIP_ROUND))))
    people = [Person(pid, org[pid], turns[pid]) for pid in active if pid not in skipping]
    odd = "sit_out" if number % SIT_OUT_EVERY == 0 else "trio"
    return make_groups(people, history, seed=number, odd=odd), sorted(skipping)


def round_rows(number: int, grouping: Grouping, skipping: list[int], ids: Ids, history: History,
               turns: Counter[int], rng: random.Random) -> RoundRows:
    opened = START + timedelta(days=28 * (number - 1))
    rows = RoundRows({"id": number, "number": number, "seed": number, "opened_at": opened,
                      "nudge_due": opened + timedelta(days=7), "checkin_due": opened + timedelta(days=14),
                      "closes_at": opened + timedelta(days=27), "nudged_at": opened + timedelta(days=7),
                      "checked_in_at": opened + timedelta(days=14), "closed_at": opened + timedelta(days=27)})
    for group in grouping.groups:
        match_id = ids.next("match")
        extra = grouping.trio_extra if len(group) == 3 else None
        rows.matches.append({"id": match_id, "round_id": number, "token": f"m{match_id:031x}",
                             "odd_one_id": extra, "intro_message_id": f"<intro{match_id}@bench>",
                             "created_at": opened})
        rows.members += [{"id": ids.next("member"), "match_id": match_id, "participant_id": pid} for pid in group]
        met = report(rows, match_id, group, opened, ids, rng)
        for k, a in enumerate(group):
            for b in group[k + 1:]:
                history.record(a, b, number, met)
    odd_one = grouping.trio_extra if grouping.trio_extra is not None else grouping.sitting_out
    if odd_one is not None:
        turns[odd_one] += 1
    sitting = [(pid, "skip") for pid in skipping]
    if grouping.sitting_out is not None:
        sitting.append((grouping.sitting_out, "odd"))
    rows.sit_outs = [{"id": ids.next("sit_out"), "round_id": number, "participant_id": pid, "reason": reason}
                     for pid, reason in sitting]
    return rows


def report(rows: RoundRows, match_id: int, group: tuple[int, ...], opened: datetime, ids: Ids,
           rng: random.Random) -> bool | None:
    """Outcome rows for one match; the result the latest report gives (None: nobody reported)."""
    roll = rng.random()
    if roll >= MET + NOT_MET:
        return None
    met = roll < MET
    reporters = [group[0]] + ([group[1]] if rng.random() < SECOND_REPORT else [])
    at = opened + timedelta(days=rng.randrange(3, 20), minutes=rng.randrange(600))
    for k, pid in enumerate(reporters):
        if k:
            at += timedelta(hours=rng.randrange(1, 72))
            met = met if rng.random() >= FLIP else not met
        rows.outcomes.append({"id": ids.next("outcome"), "match_id": match_id, "participant_id": pid, "met": met,
                              "reason": "", "reason_group": "", "reported_at": at, "inbound_id": None})
    return met


# ---------------------------------------------------------------- filling the database

@dataclass
class Filled:
    participants: int
    rounds: int
    matches: int
    members: int
    outcomes: int
    sit_outs: int
    past_pairs: int
    generate_s: float = 0.0
    insert_s: float = 0.0
    index_s: float = 0.0


def insert_rows(engine: Engine, table: Table, rows: list[dict[str, Any]], chunk: int = 50_000) -> None:
    with engine.begin() as conn:
        for at in range(0, len(rows), chunk):
            conn.execute(insert(table), rows[at:at + chunk])


def fill(engine: Engine, n: int, rounds: int, seed: int = 1) -> Filled:
    """Participants, then each round drawn by make_groups and inserted before the next is drawn."""
    rng = random.Random(seed)
    people = participant_rows(n, rng)
    start = time.perf_counter()
    insert_rows(engine, Participant.__table__, people)
    inserted = time.perf_counter() - start
    org = {p["id"]: organisation_key(p["organisation"], p["email"]) for p in people}
    active = [p["id"] for p in people if p["status"] == Status.ACTIVE]
    history, turns, ids = History(), Counter[int](), Ids()
    generated = 0.0
    for number in range(1, rounds + 1):
        start = time.perf_counter()
        grouping, skipping = draw(number, active, org, turns, history, rng)
        rows = round_rows(number, grouping, skipping, ids, history, turns, rng)
        middle = time.perf_counter()
        insert_rows(engine, Round.__table__, [rows.round])
        for table, data in ((Match.__table__, rows.matches), (MatchMember.__table__, rows.members),
                            (Outcome.__table__, rows.outcomes), (SitOut.__table__, rows.sit_outs)):
            insert_rows(engine, table, data)
        generated += middle - start
        inserted += time.perf_counter() - middle
    finish(engine)
    return Filled(len(people), rounds, ids.match, ids.member, ids.outcome, ids.sit_out, len(history),
                  generated, inserted)


def finish(engine: Engine) -> None:
    """PostgreSQL: move the id sequences past the explicit ids, and gather planner statistics."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("participants", "rounds", "matches", "match_members", "outcomes", "sit_outs"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


# ---------------------------------------------------------------- timed, in a fresh interpreter

def settings_for(url: str) -> config.Settings:
    return config.Settings(database=config.DatabaseSettings(url=url))


def maxrss_mb() -> float:
    """Peak RSS of this process (ru_maxrss; the parent stays small, so what it leaves at exec is not it)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vmhwm_mb() -> float:
    """The same peak as the kernel keeps it for this program image (VmHWM), as a cross-check; 0 off Linux."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0.0
    return int(line.split()[1]) / 1024


def plan_child(url: str) -> dict[str, Any]:
    """plan() end to end, as open_round calls it."""
    settings = settings_for(url)
    engine = make_engine(url)
    before = maxrss_mb()
    with sessions(engine)() as session:
        start = time.perf_counter()
        drawn = plan(session, settings, seed=12345)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "maxrss_mb": maxrss_mb(), "vmhwm_mb": vmhwm_mb(), "maxrss_before_mb": before,
            "groups": len(drawn.grouping.groups), "score": list(drawn.grouping.score)}


def timed(times: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = fn()
    times[name] = time.perf_counter() - start
    return result


def timed_median(times: dict[str, float], name: str, fn: Callable[[], T], repeats: int = 3) -> T:
    """The median of a few calls: at small sizes one call takes milliseconds and the machine's noise shows."""
    runs = []
    for _ in range(repeats):
        result = timed(times, name, fn)
        runs.append(times[name])
    times[name] = statistics.median(runs)
    return result


def stages_child(url: str) -> dict[str, Any]:
    """Each stage of plan() on its own, in plan's order, in one session."""
    times: dict[str, float] = {}
    engine = make_engine(url)
    with sessions(engine)() as session:
        everyone = timed(times, "eligible", lambda: eligible(session))
        taking_part = [p for p in everyone if not p.skip_next]
        timed(times, "odd_turns", lambda: odd_turns(session))
        people = timed(times, "people_for_matching", lambda: people_for_matching(session, taking_part))
        index = timed_median(times, "past_pairs", lambda: past_pairs(session))
        grouping = timed_median(times, "make_groups", lambda: make_groups(people, index, 12345))
        rebuilt = timed(times, "history_from_matches", lambda: history_from_matches(session))
        on_dict = timed_median(times, "make_groups_dict", lambda: make_groups(people, rebuilt, 12345))
    return {"times": times, "maxrss_mb": maxrss_mb(), "people": len(people), "history_pairs": len(index),
            "score": list(grouping.score), "in_step": index == rebuilt, "same_draw": grouping == on_dict}


def fill_child(url: str, people: int, rounds: int) -> dict[str, Any]:
    """Migrate and fill a fresh database (in a child, so the parent stays small for the peak-RSS figures)."""
    engine = make_engine(url)
    upgrade(engine)
    filled = fill(engine, people, rounds)
    start = time.perf_counter()
    with sessions(engine).begin() as session:
        rebuild(session)
    filled.index_s = time.perf_counter() - start
    engine.dispose()
    return asdict(filled)


def in_child(kind: str, url: str, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, *extra, "--child", kind, url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return dict(json.loads(out.splitlines()[-1]))


# ---------------------------------------------------------------- reporting

@dataclass
class Result:
    label: str
    filled: Filled
    plans: list[dict[str, Any]]
    stages: dict[str, Any]
    load: tuple[float, float]


STAGES = [
    ("load people: eligible()", "eligible", True),
    ("people_for_matching()", "people_for_matching", True),
    ("  of which odd_turns() alone (not summed)", "odd_turns", False),
    ("past_pairs(): the stored index loaded", "past_pairs", True),
    ("make_groups on the index (matching alone)", "make_groups", True),
    ("  history_from_matches(), as before (not summed)", "history_from_matches", False),
    ("  make_groups on that rebuilt dict (not summed)", "make_groups_dict", False),
]


def table(r: Result) -> list[str]:
    f, times = r.filled, r.stages["times"]
    totals = [p["seconds"] for p in r.plans]
    rss = max(p["maxrss_mb"] for p in r.plans)
    lines = [f"{r.label}: {f.participants:,} participants, {f.rounds} rounds, {f.matches:,} matches, "
             f"{f.members:,} match_members, {f.outcomes:,} outcomes, {f.sit_outs:,} sit-outs, "
             f"{r.stages['history_pairs']:,} distinct past pairs; {r.stages['people']:,} people drawn "
             f"(load average {r.load[0]:.1f} before, {r.load[1]:.1f} after)",
             f"  {'stage (one process, each call alone)':<44} {'s':>7}"]
    lines += [f"  {name:<44} {times[key]:>7.2f}" for name, key, _ in STAGES]
    summed = sum(times[key] for _, key, counted in STAGES if counted)
    lines += [f"  {'sum of the stages':<44} {summed:>7.2f}",
              f"  {'plan() total, median of ' + str(len(totals)) + ' processes':<44} "
              f"{statistics.median(totals):>7.2f}  (min {min(totals):.2f}, max {max(totals):.2f}); "
              f"{statistics.median(totals) / TARGET_TOTAL_S:.2f}x the {TARGET_TOTAL_S:.0f} s target",
              f"  {'matching alone (make_groups above)':<44} {times['make_groups']:>7.2f}  "
              f"{times['make_groups'] / TARGET_MATCHING_S:.2f}x the {TARGET_MATCHING_S:.0f} s target",
              f"  {'loading the history / the matching':<44} {load_ratio(r):>6.2f}x  (target at most "
              f"{TARGET_LOAD_RATIO:.0f}x); rebuilt from the matches it is "
              f"{times['history_from_matches'] / times['make_groups']:.1f}x, "
              f"{times['history_from_matches'] / times['past_pairs']:.1f}x the stored index's load",
              f"  {'stored index equals the rebuilt history':<44} {'yes' if r.stages['in_step'] else 'NO'}; "
              f"the same draw from both: {'yes' if r.stages['same_draw'] else 'NO'}; matching on the stored "
              f"arrays {times['make_groups'] / times['make_groups_dict']:.2f}x on the dict",
              f"  {'':<44} "
              f"(built from the matches in {f.index_s:.1f} s at setup, as migration 0013 does)",
              f"  {'peak RSS of a plan() process':<44} {rss:>5.0f} MB  "
              f"{rss / TARGET_RSS_MB:.2f}x the 1 GB target (VmHWM {max(p['vmhwm_mb'] for p in r.plans):.0f} MB; "
              f"before plan() {r.plans[0]['maxrss_before_mb']:.0f} MB; stages process {r.stages['maxrss_mb']:.0f} MB)"]
    return lines


def load_ratio(r: Result) -> float:
    times = r.stages["times"]
    return float(times["past_pairs"] / times["make_groups"])


def scaling(results: list[Result]) -> list[str]:
    """One line per database and size: does loading grow with the pairs, like the matching?"""
    lines = ["", "scaling: the stored index's load against the matching, per database and size",
             f"  {'database':<11} {'people':>8} {'past pairs':>11} {'load s':>7} {'matching s':>10} "
             f"{'ratio':>6} {'load us/pair':>12} {'plan() s':>8}"]
    for r in results:
        times, pairs = r.stages["times"], r.stages["history_pairs"]
        lines.append(f"  {r.label:<11} {r.filled.participants:>8,} {pairs:>11,} {times['past_pairs']:>7.3f} "
                     f"{times['make_groups']:>10.3f} {load_ratio(r):>5.2f}x "
                     f"{1e6 * times['past_pairs'] / max(pairs, 1):>12.2f} "
                     f"{statistics.median(p['seconds'] for p in r.plans):>8.2f}")
    return lines


# ---------------------------------------------------------------- main

def databases(use_sqlite: bool, use_postgres: bool, stack: ExitStack,
              data_dir: str) -> Iterator[tuple[str, Callable[[int], str]]]:
    """(label, URL of a fresh empty database for a size) for each database to bench."""
    if use_sqlite:
        yield "sqlite", lambda people: f"sqlite:///{data_dir}/bench-{people}.sqlite3"
    if not use_postgres:
        return
    if not postgres_available():
        print("PostgreSQL binaries missing (run `make test-servers`): skipping PostgreSQL")
        return
    server = stack.enter_context(Postgres())
    yield "postgresql", lambda people: server.create_database()


def bench(label: str, url: str, people: int, rounds: int, repeats: int) -> Result:
    filled = Filled(**in_child("fill", url, "--people", str(people), "--rounds", str(rounds)))
    print(f"{label}, {people:,} people: filled in {filled.generate_s + filled.insert_s:.0f} s "
          f"(drawing the rounds {filled.generate_s:.0f} s, inserting {filled.insert_s:.0f} s; "
          f"the stored index built in {filled.index_s:.1f} s)", flush=True)
    load_before = os.getloadavg()[0]
    plans = [in_child("plan", url) for _ in range(repeats)]
    stages = in_child("stages", url)
    return Result(label, filled, plans, stages, (load_before, os.getloadavg()[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[100_000],
                        help="one or more sizes, each in a fresh database (default 100000)")
    parser.add_argument("--rounds", type=int, default=36)
    parser.add_argument("--repeats", type=int, default=3, help="plan() processes per database (default 3)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url = args.child
        children = {"plan": lambda: plan_child(url), "stages": lambda: stages_child(url),
                    "fill": lambda: fill_child(url, args.people[0], args.rounds)}
        print(json.dumps(children[kind]()))
        return
    print(f"unmentoring plan() benchmark: {' / '.join(f'{n:,}' for n in args.people)} people, {args.rounds} rounds; python "
          f"{sys.version.split()[0]}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} at start",
          flush=True)
    results = []
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-plan-") as data_dir:
        for label, fresh_url in databases(not args.no_sqlite, not args.no_postgres, stack, data_dir):
            for people in args.people:
                results.append(bench(label, fresh_url(people), people, args.rounds, args.repeats))
                print("\n" + "\n".join(table(results[-1])) + "\n", flush=True)
    print("\n".join(scaling(results)))


if __name__ == "__main__":
    main()
