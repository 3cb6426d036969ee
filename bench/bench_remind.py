"""A round's nudge: `step_nudge` queueing a reminder to each of N groups, timed against rendering and
composing the same emails with no database, in the same run.

    .venv/bin/python bench/bench_remind.py                      # 1,000 / 10,000 groups, 3 runs each, both databases
    .venv/bin/python bench/bench_remind.py --quick              # 1,000 and 10,000 groups, one run each
    .venv/bin/python bench/bench_remind.py --groups 1000 --db sqlite --old --profile

Setup (not timed, fresh process): a fresh migrated database holding 2N active participants (as
bench_open.py makes them), and round 1 opened for them with a fixed seed: N pairs, each with its
introduction queued, its host, starter and times.

Baseline (fresh process, no database): for each group, the nudge's context and fresh times to book
(`meetings.offer.times_for`, `offer_context`, `where_to_meet`), then `mailer.outbox.group_copies`
with the introduction's thread and subject: the same templates, people, groups and copies as ours
(the round, its groups, their people and the introductions' subjects are read beforehand, not
timed). It runs before ours and again after it, and the mean is used (the machine may be busy).

Ours (fresh process): `rounds.lifecycle.step_nudge` at the round's nudge time, committed: one
transaction (reading the round, which groups are due, the people; the emails; the outbox rows and
each match's fresh times). Target: at most 1.5x the baseline. Each run then checks that every
member has one queued nudge, threaded under their group's introduction.

`--old` also times the way reminders were queued before (one group at a time: its members read,
its times stored on the Match, `enqueue_group` through the ORM; `tests/test_reminders.one_group_at_a_time`)
on another fresh copy.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select  # noqa: E402

from bench_open import SEED, Timing, measure, setup as fill  # noqa: E402
from bench_outbound import databases, in_fresh_process, settings_for  # noqa: E402
from mailer.outbox import group_copies  # noqa: E402
from mailer.threads import reply_subject  # noqa: E402
from meetings.offer import offer_context, times_for, where_to_meet  # noqa: E402
from models import Match, MatchMember, OutboundMessage, Participant, Round, utcnow  # noqa: E402
from models.db import make_engine, sessions  # noqa: E402
from rounds import lifecycle  # noqa: E402
from rounds.introductions import group_context  # noqa: E402

TARGET = 1.5
NUDGE = "group/nudge"


def setup(url: str, data_dir: str, groups: int) -> None:
    """A fresh database with 2 x `groups` people and round 1 opened for them (its introductions queued)."""
    fill(url, data_dir, 2 * groups)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        lifecycle.open_round(session, settings_for(url, data_dir), utcnow(), source="bench", seed=SEED)
    engine.dispose()


def baseline(url: str, data_dir: str) -> Timing:
    """Render and compose every group's nudge, one copy per member, with no database in the timed part."""
    settings, engine = settings_for(url, data_dir), make_engine(url)
    with sessions(engine)() as session:
        rnd = session.scalars(select(Round)).one()
        matches = list(session.scalars(select(Match).order_by(Match.id)))
        members = {m.id: [session.get_one(Participant, x.participant_id) for x in m.members] for m in matches}
        subjects = dict(session.execute(select(OutboundMessage.message_id, OutboundMessage.subject)
                                        .where(OutboundMessage.kind == "intro")).all())
        session.expunge_all()
    engine.dispose()
    now = rnd.nudge_due
    hosts = {m.id: next(p for p in members[m.id] if p.id == m.host_id) for m in matches}

    def work() -> int:
        emails = 0
        for match in matches:
            group, host = members[match.id], hosts[match.id]
            starts = times_for(settings, group, match.host_id, rnd.checkin_due, now)
            personal = offer_context(settings, starts, group, host, where_to_meet(settings, group, host, match.token),
                                     match.starter)
            emails += len(group_copies(
                settings, template=NUDGE, members=group, token=match.token, now=now,
                context=group_context(settings, rnd, group), thread=match.intro_message_id,
                subject=reply_subject(subjects[match.intro_message_id]), dedupe_key=f"{NUDGE}:{match.id}",
                personal=personal))
        return emails
    return measure(work)


def ours(url: str, data_dir: str, old: bool, profile: bool) -> Timing:
    """`step_nudge` at the round's nudge time, committed (`old`: one group at a time, as before)."""
    settings, engine = settings_for(url, data_dir), make_engine(url)
    if old:
        from tests.test_reminders import one_group_at_a_time
        lifecycle.remind = one_group_at_a_time  # type: ignore[assignment]
    Session_ = sessions(engine)
    with Session_() as session:  # connect outside the timed part
        now = session.scalars(select(Round)).one().nudge_due

    def work() -> None:
        with Session_.begin() as session:
            note = lifecycle.step_nudge(session, settings, now, lambda: SEED)
            assert note and "nudged" in note, note
    phase = measure(work, profile)
    check(Session_)
    engine.dispose()
    return phase


def check(Session_: Any) -> None:
    """Every member has one nudge, in their group's thread, and each group's times were stored."""
    with Session_() as session:
        people = session.scalar(select(func.count(MatchMember.id)))
        nudges = session.execute(select(OutboundMessage.raw, Match.intro_message_id)
                                 .join(MatchMember, MatchMember.participant_id == OutboundMessage.participant_id)
                                 .join(Match, Match.id == MatchMember.match_id)
                                 .where(OutboundMessage.kind == "nudge")).all()
        assert len(nudges) == people, (len(nudges), people)
        assert all(f"In-Reply-To: {intro}".encode() in raw for raw, intro in nudges), "a nudge out of its thread"
        rnd = session.scalars(select(Round)).one()
        fresh = session.scalar(select(func.count(Match.id)).where(Match.options_at == rnd.nudge_due))
        assert fresh == people // 2, (fresh, people // 2)


@dataclass
class Run:
    base: Timing  # the mean of the baseline before and after ours
    ours: Timing
    old: Timing | None


def mean(a: Timing, b: Timing) -> Timing:
    return Timing((a.wall + b.wall) / 2, (a.cpu + b.cpu) / 2, max(a.peak_mib, b.peak_mib))


def one_run(fresh_url: Callable[[str], str], groups: int, old: bool, profile: bool) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-remind-") as data_dir:
        url = fresh_url(data_dir)
        in_fresh_process(setup, url, data_dir, groups)
        before = in_fresh_process(baseline, url, data_dir)
        mine = in_fresh_process(ours, url, data_dir, False, profile)
        after = in_fresh_process(baseline, url, data_dir)
        if not old:
            return Run(mean(before, after), mine, None)
        Path(data_dir, "old").mkdir()
        url = fresh_url(f"{data_dir}/old")
        in_fresh_process(setup, url, data_dir, groups)
        return Run(mean(before, after), mine, in_fresh_process(ours, url, data_dir, True, False))


def table(results: list[tuple[str, int, list[Run]]]) -> str:
    lines = [f"{'database':<10} {'groups':>7} {'emails':>6} {'baseline s':>10} {'nudge s':>8} {'nudge/base':>10} "
             f"{'(spread)':>11} {'cpu n/b':>7} {'ms/email':>8} {'old s':>7} {'old/base':>8} {'peak MiB':>8}"]
    verdicts = []
    for label, groups, runs in results:
        def median(pick: Callable[[Run], float]) -> float:
            return statistics.median(pick(run) for run in runs)
        ratios = [run.ours.wall / run.base.wall for run in runs]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(runs) > 1 else "-"
        olds = [run.old.wall for run in runs if run.old]
        old = f"{statistics.median(olds):.2f}" if olds else "-"
        old_ratio = f"{statistics.median(run.old.wall / run.base.wall for run in runs if run.old):.2f}x" if olds else "-"
        lines.append(
            f"{label:<10} {groups:>7} {2 * groups:>6} {median(lambda r: r.base.wall):>10.2f} "
            f"{median(lambda r: r.ours.wall):>8.2f} {statistics.median(ratios):>9.2f}x {spread:>11} "
            f"{median(lambda r: r.ours.cpu / r.base.cpu):>6.2f}x "
            f"{1000 * median(lambda r: r.ours.wall) / (2 * groups):>8.3f} {old:>7} {old_ratio:>8} "
            f"{median(lambda r: r.ours.peak_mib):>8.0f}")
        verdicts.append(f"{label}, {groups} groups: nudge {statistics.median(ratios):.2f}x baseline "
                        f"({'within' if statistics.median(ratios) <= TARGET else 'ABOVE'} the {TARGET}x target)")
    return "\n".join(lines + verdicts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", default="1000,10000", help="comma-separated sizes (groups of 2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the table shows the median")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 groups, one run each")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--old", action="store_true", help="also time one group at a time, as before")
    parser.add_argument("--profile", action="store_true", help="run ours under cProfile and print where time goes")
    args = parser.parse_args(argv)
    sizes = [1000, 10000] if args.quick else [int(n) for n in args.groups.split(",")]
    repeats = 1 if args.quick else args.repeats
    results: list[tuple[str, int, list[Run]]] = []
    with ExitStack() as stack:
        for label, fresh_url in databases(args.db, stack):
            for groups in sizes:
                runs = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    runs.append(one_run(fresh_url, groups, args.old, args.profile))
                    old = f", old {runs[-1].old.wall:.2f} s" if runs[-1].old else ""
                    print(f"{label} {groups} groups: nudge {runs[-1].ours.wall:.2f} s, baseline {runs[-1].base.wall:.2f} s"
                          f"{old} ({time.perf_counter() - started:.0f} s with setup)", flush=True)
                    if args.profile:
                        print(runs[-1].ours.profile)
                results.append((label, groups, runs))
    print("\n" + table(results))
    print("emails: one a member (pairs); baseline s: mean of render + compose (with the fresh times) and no database "
          "before and after ours; nudge s: step_nudge and its commit (reads, emails, outbox rows, each match's "
          "times); cpu n/b: the same ratio in CPU seconds of our process (a PostgreSQL server's work is not in it); "
          f"old s: one group at a time (--old); medians of {repeats} run(s), spread: min-max of nudge/base; "
          "peak MiB: ours, RSS high-water mark above its start")


if __name__ == "__main__":
    main()
