"""Opening a round: `open_round` queueing N introductions, timed against rendering and composing the
same emails with no database, in the same run.

    .venv/bin/python bench/bench_open.py                       # 1,000 / 10,000 / 20,000 people, both databases
    .venv/bin/python bench/bench_open.py --quick               # 1,000 and 10,000 people, one run each
    .venv/bin/python bench/bench_open.py --people 100000 --repeats 1
    .venv/bin/python bench/bench_open.py --people 20000 --db sqlite --old --profile

Setup (not timed, fresh process): a fresh migrated database holding N active participants
(realistic names and organisations, some non-ASCII; bulk Core insert), and the draw `plan()` makes
for them with a fixed seed, so every phase works on the same groups.

Baseline (fresh process, no database): for each group, the introduction's context, then
`mailer.outbox.group_copies`: the text rendered once, one composed email per member (the same
templates, people, tokens and copies as ours; the people are read beforehand, not timed). It runs
before ours and again after it, and the mean is used (the machine may be busy).

Ours (fresh process): `rounds.lifecycle.open_round` with the same seed, committed: one transaction.
"queue" is the part in `rounds.introductions.introduce_all` (match rows, members, emails, outbox
rows); "open" is the whole call and its commit (closing nothing, the draw with its database reads,
the queue, the audit row). Target: queue at most 1.5x the baseline. Each run then checks that the
round holds the planned groups and one queued introduction per member.

`--old` also times the way rounds were introduced before (a Match flushed per group, then
`enqueue_group`; `tests/test_open_round.one_group_at_a_time`) on another fresh copy.
"""
from __future__ import annotations

import argparse
import cProfile
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, insert, select  # noqa: E402

from bench_outbound import (BIOS, FIRST, LAST, ORGS, ROLES, _ascii, _peak_mib, _rss_mib, _top,  # noqa: E402
                            databases, in_fresh_process, settings_for)
from inbound.tokens import new_token  # noqa: E402
from mailer.compose import new_message_id  # noqa: E402
from mailer.outbox import group_copies  # noqa: E402
from models import Match, MatchMember, OutboundMessage, Participant, Round, Status, utcnow  # noqa: E402
from models.db import make_engine, sessions, upgrade  # noqa: E402
from rounds import introductions, lifecycle  # noqa: E402
from rounds.history import active_by_id  # noqa: E402
from rounds.schedule import timeline  # noqa: E402

TARGET = 1.5
SEED = 20261202


@dataclass
class Timing:
    """Wall-clock and CPU seconds (this process only: not a PostgreSQL server's), peak memory above the start."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_mib: float = 0.0
    profile: str = ""
    part: Timing | None = None  # ours: the part in introduce_all


def measure(work: Callable[[], Any], profile: bool = False) -> Timing:
    before, profiler = _rss_mib(), cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    work()
    if profiler:
        profiler.disable()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, _peak_mib() - before,
                  _top(profiler) if profiler else "")


def time_calls(module: Any, name: str) -> Timing:
    """Wrap `module.name` (in this process only) to add up the wall and CPU seconds spent in it."""
    spent, inner = Timing(), getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.wall += time.perf_counter() - wall
            spent.cpu += time.process_time() - cpu
    setattr(module, name, timed)
    return spent


def person_rows(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """`count` active participants as column values, spread over 14 organisations."""
    rng, now = random.Random(seed), utcnow()
    rows = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        org, domain = ORGS[n % len(ORGS)]
        local = f"{_ascii(first) or 'p'}.{_ascii(last) or 'x'}.{n}"
        rows.append(dict(
            email=f"{local}@{domain}", name=f"{first} {last}", organisation=org, role=rng.choice(ROLES),
            bio=rng.choice(BIOS), video=f"https://meet.example/{local}" if rng.random() < 0.3 else "",
            phone=f"0113 496 {n % 10000:04d}" if rng.random() < 0.2 else "",
            links="https://blog.example/" + local if rng.random() < 0.1 else "",
            status=Status.ACTIVE, reply_token=new_token(), confirmed_at=now, created_at=now, updated_at=now))
    return rows


def setup(url: str, data_dir: str, people: int) -> list[tuple[int, ...]]:
    """Fill a fresh database; return the groups the draw makes for it with SEED."""
    engine = make_engine(url)
    upgrade(engine)
    rows = person_rows(people)
    with sessions(engine).begin() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Participant), rows[start:start + 5000])
    with sessions(engine)() as session:
        groups = list(lifecycle.plan(session, settings_for(url, data_dir), SEED).grouping.groups)
    engine.dispose()
    return groups


def _round_for(now: Any) -> Round:
    """The round as `open_round` makes it (number, dates), not saved: the templates read it."""
    rnd = Round(number=1, seed=SEED, opened_at=now)
    steps = timeline(now, now + timedelta(days=28))
    rnd.nudge_due, rnd.checkin_due, rnd.closes_at = steps.nudge, steps.checkin, steps.closes
    return rnd


def baseline(url: str, data_dir: str, groups: list[tuple[int, ...]]) -> Timing:
    """Render and compose every introduction, one copy per member, with no database in the timed part."""
    settings, engine = settings_for(url, data_dir), make_engine(url)
    with sessions(engine)() as session:
        people = active_by_id(session, (i for group in groups for i in group))
        session.expunge_all()
    engine.dispose()
    now = utcnow()
    rnd = _round_for(now)
    members = [[people[i] for i in group] for group in groups]
    tokens = [new_token() for _ in groups]

    def work() -> int:
        emails = 0
        for token, group in zip(tokens, members):
            message_id = new_message_id("intro", token, settings.service.domain)
            emails += len(group_copies(settings, template=introductions.INTRO, members=group, token=token, now=now,
                                       context=introductions.group_context(settings, rnd, group),
                                       message_id=message_id, dedupe_key="intro:0"))
        return emails
    return measure(work)


def ours(url: str, data_dir: str, groups: list[tuple[int, ...]], old: bool, profile: bool,
         inline: bool = False) -> Timing:
    """`open_round` with SEED, committed; `part`: the time in introduce_all. `inline`: each chunk's
    INSERT in the calling thread (to see what the writer thread buys)."""
    settings, engine = settings_for(url, data_dir), make_engine(url)
    if inline:
        introductions._Writer.put = lambda self, chunk: self._write(chunk)  # type: ignore
    if old:
        from tests.test_open_round import one_group_at_a_time
        lifecycle.introduce_all = one_group_at_a_time  # type: ignore[assignment]
    spent = time_calls(lifecycle, "introduce_all")
    Session_ = sessions(engine)
    with Session_() as session:  # connect outside the timed part
        session.scalar(select(func.count(Participant.id)))

    def work() -> None:
        with Session_.begin() as session:
            lifecycle.open_round(session, settings, utcnow(), source="bench", seed=SEED)
    phase = measure(work, profile)
    check(Session_, groups)
    engine.dispose()
    phase.part = spent
    return phase


def check(Session_: Any, groups: list[tuple[int, ...]]) -> None:
    """The round holds exactly the planned groups, and each member has one queued introduction."""
    with Session_() as session:
        members: dict[int, list[int]] = {}
        for match_id, person in session.execute(select(MatchMember.match_id, MatchMember.participant_id)):
            members.setdefault(match_id, []).append(person)
        assert sorted(tuple(sorted(m)) for m in members.values()) == sorted(groups), "the round is not the plan"
        intros = session.execute(select(OutboundMessage.participant_id, OutboundMessage.message_id, Match.intro_message_id)
                                 .join(MatchMember, MatchMember.participant_id == OutboundMessage.participant_id)
                                 .join(Match, Match.id == MatchMember.match_id).where(OutboundMessage.kind == "intro")).all()
        assert len(intros) == sum(len(g) for g in groups), (len(intros), sum(len(g) for g in groups))
        assert all(sent == recorded for _, sent, recorded in intros), "an introduction not recorded on its match"


@dataclass
class Run:
    base: Timing  # the mean of the baseline before and after ours
    ours: Timing
    old: Timing | None

    @property
    def queue(self) -> Timing:
        assert self.ours.part is not None
        return self.ours.part


@dataclass
class Result:
    label: str
    people: int
    runs: list[Run]

    def median(self, pick: Callable[[Run], float]) -> float:
        return statistics.median(pick(run) for run in self.runs)

    def spread(self, pick: Callable[[Run], float]) -> str:
        values = [pick(run) for run in self.runs]
        return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else "-"


def mean(a: Timing, b: Timing) -> Timing:
    return Timing((a.wall + b.wall) / 2, (a.cpu + b.cpu) / 2, max(a.peak_mib, b.peak_mib))


def one_run(fresh_url: Callable[[str], str], people: int, old: bool, profile: bool, inline: bool) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-open-") as data_dir:
        url = fresh_url(data_dir)
        groups = in_fresh_process(setup, url, data_dir, people)
        before = in_fresh_process(baseline, url, data_dir, groups)
        mine = in_fresh_process(ours, url, data_dir, groups, False, profile, inline)
        after = in_fresh_process(baseline, url, data_dir, groups)
        if not old:
            return Run(mean(before, after), mine, None)
        Path(data_dir, "old").mkdir()
        url = fresh_url(f"{data_dir}/old")
        assert in_fresh_process(setup, url, data_dir, people) == groups
        return Run(mean(before, after), mine, in_fresh_process(ours, url, data_dir, groups, True, False))


def table(results: list[Result]) -> str:
    lines = [f"{'database':<10} {'people':>7} {'emails':>6} {'baseline s':>10} {'queue s':>8} {'queue/base':>10} "
             f"{'(spread)':>11} {'cpu q/b':>7} {'open s':>7} {'open/base':>9} {'ms/email':>8} {'old queue s':>11} "
             f"{'peak MiB':>8}"]
    for r in results:
        ratio = r.median(lambda run: run.queue.wall / run.base.wall)
        old = r.median(lambda run: run.old.part.wall) if r.runs[0].old and r.runs[0].old.part else None
        lines.append(
            f"{r.label:<10} {r.people:>7} {r.people:>6} {r.median(lambda run: run.base.wall):>10.2f} "
            f"{r.median(lambda run: run.queue.wall):>8.2f} {ratio:>9.2f}x "
            f"{r.spread(lambda run: run.queue.wall / run.base.wall):>11} "
            f"{r.median(lambda run: run.queue.cpu / run.base.cpu):>6.2f}x {r.median(lambda run: run.ours.wall):>7.2f} "
            f"{r.median(lambda run: run.ours.wall / run.base.wall):>8.2f}x "
            f"{1000 * r.median(lambda run: run.queue.wall) / r.people:>8.3f} "
            f"{f'{old:.2f}' if old is not None else '-':>11} {r.median(lambda run: run.ours.peak_mib):>8.0f}")
    verdicts = [f"{r.label}, {r.people} people: queue {r.median(lambda run: run.queue.wall / run.base.wall):.2f}x "
                f"baseline ({'within' if r.median(lambda run: run.queue.wall / run.base.wall) <= TARGET else 'ABOVE'} "
                f"the {TARGET}x target)" for r in results]
    return "\n".join(lines + verdicts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", default="1000,10000,20000", help="comma-separated sizes (people, 2 a group)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the table shows the median")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 people, one run each")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--old", action="store_true", help="also time one group at a time, as before")
    parser.add_argument("--inline", action="store_true", help="ours without the writer thread")
    parser.add_argument("--profile", action="store_true", help="run ours under cProfile and print where time goes")
    args = parser.parse_args(argv)
    sizes = [1000, 10000] if args.quick else [int(n) for n in args.people.split(",")]
    repeats = 1 if args.quick else args.repeats
    results: list[Result] = []
    profiles: list[str] = []
    with ExitStack() as stack:
        for label, fresh_url in databases(args.db, stack):
            for people in sizes:
                runs = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    runs.append(one_run(fresh_url, people, args.old, args.profile, args.inline))
                    print(f"{label} {people} people: queue {runs[-1].queue.wall:.2f} s, baseline "
                          f"{runs[-1].base.wall:.2f} s ({time.perf_counter() - started:.0f} s with setup)", flush=True)
                    profiles.append(f"{label} {people}:\n{runs[-1].ours.profile}")
                results.append(Result(label, people, runs))
    print("\n" + table(results))
    print("emails: one a person (pairs, a trio when the count is odd); baseline s: mean of render + compose with no "
          "database before and after ours; queue s: introduce_all (match rows, members, emails, outbox rows); cpu q/b: "
          "the same ratio in CPU seconds of our process (steadier on a busy machine; a PostgreSQL server's work is not "
          "in it); open s: the whole open_round and its commit; old queue s: one group at a time (--old); "
          f"medians of {repeats} run(s), spread: min-max of queue/base; peak MiB: ours, RSS high-water mark above its start")
    for text in profiles if args.profile else []:
        print(f"\nprofile (ours; times above are under cProfile) {text}")


if __name__ == "__main__":
    main()
