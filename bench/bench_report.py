"""Report benchmark: `unmentoring report` on a synthetic history of 5,000 people and 24 monthly rounds.

    .venv/bin/python bench/bench_report.py                       # 5,000 people, 24 rounds
    .venv/bin/python bench/bench_report.py --people 1000 --rounds 6 --keep /tmp/report

Setup (not timed): a fresh migrated SQLite database filled directly (bulk inserts, no email):
people join over the two years (60% before the first round), most confirm, some pause, resume,
leave or are forgotten, each change audited as the service audits it; every round draws its
groups with the real matcher (`matching.make_groups`, past pairs and odd turns included), and
groups report MET (55%, a few after first saying NOT MET), NOT MET (15%, most with a reason) or nothing;
some share a link. Timed: `report.build_report` writing the page, open data and CSV + JSON exports,
split by stage (load, figures, layout, pictures, exports, page). Target: under 30 s.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from inbound.reasons import reason_group  # noqa: E402
from matching import PastPair, Person, make_groups, organisation_key  # noqa: E402
from models import (AuditEvent, Match, MatchMember, Outcome, Participant, Round, Share, SitOut,  # noqa: E402
                    Status)
from models.db import make_engine, sessions, upgrade  # noqa: E402
from report.build import Options, build_report  # noqa: E402

TARGET = 30.0
START = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)
REASONS = ["we were both busy", "no reply from them", "rescheduled to next month", "I was on leave",
           "never heard back", "we could not find a time", "postponed", "strike day", "other plans"]
LINKS = ["https://example.org/talk", "https://example.org/guide", "a good podcast: https://example.net/ep/12"]


class World:
    """The synthetic service: people, their statuses, and the rows to insert."""

    def __init__(self, people: int, orgs: int, rng: random.Random) -> None:
        self.rng, self.n = rng, people
        weights = [1 / (k + 1) ** 0.8 for k in range(orgs)]
        self.org_of = rng.choices(range(orgs), weights, k=people)
        self.status: dict[int, str] = {}
        self.rows: dict[type, list[dict[str, Any]]] = {t: [] for t in
                                                      (Participant, AuditEvent, Round, Match, MatchMember, Outcome,
                                                       SitOut, Share)}

    def audit(self, pid: int, at: datetime, action: str, new: str) -> None:
        old = self.status.get(pid, "")
        self.rows[AuditEvent].append({"participant_id": pid, "at": at, "action": action, "old_status": old,
                                      "new_status": new, "source": "email"})
        self.status[pid] = new

    def join(self, pid: int, at: datetime) -> None:
        org = self.org_of[pid - 1]
        self.rows[Participant].append({
            "id": pid, "email": f"person{pid}@org{org}.example", "name": f"Person {pid}",
            "organisation": f"Organisation {org}", "status": Status.PENDING, "reply_token": f"t{pid:08d}",
            "created_at": at, "updated_at": at, "confirmed_at": None})
        self.audit(pid, at, "joined", Status.PENDING)
        if self.rng.random() < 0.92:
            self.rows[Participant][-1]["confirmed_at"] = at + timedelta(hours=2)
            self.audit(pid, at + timedelta(hours=2), "confirmed", Status.ACTIVE)

    def churn(self, at: datetime) -> None:
        for pid, status in list(self.status.items()):
            roll = self.rng.random()
            if status == Status.ACTIVE and roll < 0.03:
                self.audit(pid, at, "paused", Status.PAUSED)
            elif status == Status.ACTIVE and roll < 0.04:
                self.audit(pid, at, "left", Status.LEFT)
            elif status == Status.ACTIVE and roll < 0.042:
                self.audit(pid, at, "forgotten", Status.LEFT)
                self.forget(pid)
            elif status == Status.PAUSED and roll < 0.3:
                self.audit(pid, at, "resumed", Status.ACTIVE)

    def forget(self, pid: int) -> None:
        row = self.rows[Participant][pid - 1]
        row |= {"email": f"forgotten-{pid}@invalid", "name": "", "organisation": ""}


def simulate(world: World, rounds: int) -> None:
    rng, pairs, turns = world.rng, [], {}
    early = int(world.n * 0.6)
    joins = sorted(START - timedelta(days=rng.uniform(1, 60)) if i < early else
                   START + timedelta(days=rng.uniform(0, 30 * rounds)) for i in range(world.n))
    pid, match_id = 0, 0
    for number in range(1, rounds + 1):
        opened = START + timedelta(days=30 * (number - 1))
        while pid < world.n and joins[pid] < opened:
            pid += 1
            world.join(pid, joins[pid - 1])
        world.churn(opened - timedelta(days=1))
        closed = opened + timedelta(days=30) if number < rounds else None
        world.rows[Round].append({"id": number, "number": number, "seed": number * 7919, "opened_at": opened,
                                  "closed_at": closed})
        active = sorted(p for p, s in world.status.items() if s == Status.ACTIVE)
        skipping = set(rng.sample(active, k=len(active) // 100))
        people = [Person(p, organisation_key(f"Organisation {world.org_of[p - 1]}", ""), turns.get(p, 0))
                  for p in active if p not in skipping]
        grouping = make_groups(people, pairs, number * 7919, odd="trio")
        if grouping.odd_one is not None:
            turns[grouping.odd_one] = turns.get(grouping.odd_one, 0) + 1
        world.rows[SitOut] += [{"round_id": number, "participant_id": p, "reason": "skip"} for p in skipping]
        for group in grouping.groups:
            match_id += 1
            odd = grouping.trio_extra if len(group) == 3 else None
            world.rows[Match].append({"id": match_id, "round_id": number, "token": f"m{match_id:09d}",
                                      "odd_one_id": odd, "created_at": opened})
            world.rows[MatchMember] += [{"match_id": match_id, "participant_id": p} for p in group]
            met = report(world, match_id, number, group, opened, closed is None)
            pairs += [PastPair(a, b, number, met) for i, a in enumerate(group) for b in group[i + 1:]]
    while pid < world.n:
        pid += 1
        world.join(pid, joins[pid - 1])


def report(world: World, match_id: int, number: int, group: tuple[int, ...], opened: datetime,
           is_open: bool) -> bool | None:
    """Some outcome rows for one group; returns what the matcher will know of it."""
    rng = world.rng
    roll = rng.random() * (2.5 if is_open else 1)
    when = opened + timedelta(days=rng.uniform(3, 28))
    if roll >= 0.7:
        return None
    met = roll < 0.55
    if met and rng.random() < 0.08:
        why = rng.choice(REASONS)
        world.rows[Outcome].append({"match_id": match_id, "participant_id": group[-1], "met": False, "reason": why,
                                    "reason_group": reason_group(why), "reported_at": when - timedelta(days=2)})
    why = "" if met or rng.random() < 0.2 else rng.choice(REASONS)
    world.rows[Outcome].append({"match_id": match_id, "participant_id": rng.choice(group), "met": met,
                                "reason": why, "reason_group": reason_group(why), "reported_at": when})
    if met and rng.random() < 0.05:
        world.rows[Share].append({"round_id": number,
                                  "participant_id": group[0], "text": rng.choice(LINKS), "shared_at": when})
    return met


def fill(session: Session, world: World) -> None:
    for person in world.rows[Participant]:
        person["status"] = world.status[person["id"]]
    for table, rows in world.rows.items():
        for start in range(0, len(rows), 20000):
            session.execute(insert(table), rows[start:start + 20000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--orgs", type=int, default=120, help="organisations (sizes roughly Zipf)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="write the report (and database) here instead of a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        database = where / "bench.sqlite3"
        database.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{database}")
        upgrade(engine)
        started = time.perf_counter()
        world = World(args.people, args.orgs, random.Random(args.seed))
        simulate(world, args.rounds)
        with sessions(engine).begin() as session:
            fill(session, world)
        rows = {t.__tablename__: len(r) for t, r in world.rows.items()}
        print(f"setup (not timed): {time.perf_counter() - started:.1f} s; rows: "
              + ", ".join(f"{n:,} {t}" for t, n in rows.items()))
        started = time.perf_counter()
        with sessions(engine)() as session:
            built = build_report(session, where / "report", Options(title="Bench"),
                                 START + timedelta(days=30 * args.rounds - 20))
        total = time.perf_counter() - started
        engine.dispose()
        print(f"report: {built.people:,} people, {built.rounds} rounds -> {built.index} "
              f"({built.index.stat().st_size / 1e6:.1f} MB; all files "
              f"{sum(f.stat().st_size for f in built.files) / 1e6:.1f} MB)")
        for stage, seconds in built.timings.items():
            print(f"  {stage:<9} {seconds:6.2f} s")
        verdict = "within" if total < TARGET else "OVER"
        print(f"  {'total':<9} {total:6.2f} s  ({verdict} the {TARGET:.0f} s target)")


if __name__ == "__main__":
    main()
