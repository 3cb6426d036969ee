"""Start-up benchmark: `unmentoring --help` and an idle `unmentoring tick`, each in a fresh process,
timed against `python -c pass` in the same run.

    .venv/bin/python bench/bench_startup.py                 # 11 runs of each, SQLite then PostgreSQL
    .venv/bin/python bench/bench_startup.py --quick         # 5 runs, SQLite only
    .venv/bin/python bench/bench_startup.py --runs 21 --no-postgres

The tick runs against a real Dovecot (an empty inbox) and an aiosmtpd sink, on an initialised
database holding 40 active people in a round opened two days earlier, its introductions already
sent: the tick reads the inbox, works out that no round step is due (so the schedule, with the
region's public holidays, is computed), sends nothing and purges nothing. That is what cron runs
every ten minutes, and since the quiet tick (quiet_tick.py) such a run stops once it has seen that
the inbox is empty and that the last full run's "nothing due before" time is still to come. The
full idle run, which every write and the first run of each day still make, is timed too: its quiet
time is cleared before each run (untimed). Floors show what the libraries each takes at least: the
quiet run's, `import click, sqlite3, imaplib` (ctypes, for libpq, on PostgreSQL); the full run's,
`import sqlalchemy.orm, imapclient`. The commands take turns, so the machine's load falls on each alike.
Targets (issue 15): `--help` at most 6x and the idle tick at most 10x `python -c pass`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config  # noqa: E402
from clock import ENV_CLOCK  # noqa: E402
from mailer.send import deliver_due  # noqa: E402
from models import Participant, Status  # noqa: E402
from models.db import make_engine, sessions, upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402
from rounds.lifecycle import open_round  # noqa: E402
from tests.app import settings_table, to_toml  # noqa: E402
from tests.harness.dovecot import Dovecot, ImapAccount  # noqa: E402
from tests.harness.postgres import Postgres, postgres_available  # noqa: E402
from tests.harness.smtpsink import SmtpSink  # noqa: E402

OPENED = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
TICK_AT = OPENED + timedelta(days=2, hours=1)
"""Two days into the round: no nudge, check-in or opening is due. Each run's clock starts there plus the
time since the bench started, so that, as in life, no run sees a time before the one it follows."""
STARTED = time.monotonic()
PEOPLE = 40
FLOOR = "import sqlalchemy.orm, imapclient"
"""The least a tick that reads the inbox and the database through the ORM must load."""
QUIET_FLOOR = {"sqlite": "import click, sqlite3, imaplib", "postgresql": "import click, ctypes, imaplib"}
"""The least the quiet check loads: the command line, the database's driver (libpq through ctypes on
PostgreSQL, see libpq_read.py), the standard IMAP client."""
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def prepare(folder: Path, url: str, account: ImapAccount, sink: SmtpSink, people: int = PEOPLE) -> Path:
    """A settings file and a migrated database with a round running and its mail sent; the file's path."""
    path = folder / "unmentoring.toml"
    table = settings_table(url, folder / "data", account, sink)
    path.write_text(to_toml(table))
    settings = config.load(path, env={})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with sessions(engine).begin() as session:
        for n in range(people):
            session.add(Participant(email=f"p{n}@org{n % 7}.example.net", name=f"Person {n}",
                                    organisation=f"Org {n % 7}", status=Status.ACTIVE, reply_token=f"tok{n:04d}",
                                    confirmed_at=OPENED - timedelta(days=30)))
    with sessions(engine).begin() as session:
        open_round(session, settings, OPENED, source="organiser", seed=7)
    sent = deliver_due(sessions(engine), settings.smtp, now=lambda: OPENED + timedelta(minutes=1))
    assert sent.sent and not sent.errors and not sent.deferred, sent
    engine.dispose()
    return path


def idle_output_ok(output: str) -> bool:
    """The tick read the inbox and found nothing to do."""
    return "inbox: 0 seen" in output and "outbox: 0 sent, 0 to retry, 0 failed" in output and "round" not in output


Command = tuple[list[str], Callable[[str], bool] | None, Path | None, Callable[[], None] | None]
"""The arguments, a check of the output (None: any), the folder to run in (None: here), and what to do
before each run, untimed (None: nothing)."""


def forget_quiet(url: str) -> Callable[[], None]:
    """Clear the quiet time, as any write does, so that the next tick is a full one."""
    def forget() -> None:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE quiet SET until_at = NULL"))
        engine.dispose()
    return forget


def time_once(command: Command, env: dict[str, str]) -> float:
    argv, check, cwd, before = command
    if before is not None:
        before()
    env = env | {ENV_CLOCK: (TICK_AT + timedelta(seconds=time.monotonic() - STARTED)).isoformat()}
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or (check is not None and not check(done.stdout)):
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return seconds


def measure(commands: dict[str, Command], env: dict[str, str], runs: int) -> dict[str, list[float]]:
    """Every command `runs` times, taking turns; one unmeasured run of each first (the page cache)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for n in range(runs + 1):
        for name, command in commands.items():
            seconds = time_once(command, env)
            if n:
                times[name].append(seconds)
    return times


def databases(use_postgres: bool, stack: ExitStack) -> Iterator[tuple[str, Callable[[Path], str]]]:
    yield "sqlite", lambda folder: f"sqlite:///{folder}/data/bench.sqlite3"
    if use_postgres and postgres_available():
        server = stack.enter_context(Postgres())
        yield "postgresql", lambda _folder: server.create_database()


def table(label: str, times: dict[str, list[float]]) -> str:
    base = statistics.median(times["python -c pass"])
    lines = [f"{label}: median of {len(times['python -c pass'])} runs",
             f"  {'command':44} {'median':>8} {'min':>7} {'max':>7} {'x pass':>7}"]
    for name, seconds in times.items():
        median = statistics.median(seconds)
        lines.append(f"  {name:44} {median * 1000:>6.0f}ms {min(seconds) * 1000:>5.0f}ms "
                     f"{max(seconds) * 1000:>5.0f}ms {median / base:>6.1f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="5 runs, SQLite only")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--people", type=int, default=PEOPLE, help="how many take part in the running round")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also time the code in DIR (an older checkout); then both run as python -m cli")
    args = parser.parse_args(argv)
    runs = 5 if args.quick else args.runs
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNMENTORING_")}
    with ExitStack() as stack:
        account = stack.enter_context(Dovecot()).account()
        sink = SmtpSink().start()
        stack.callback(sink.stop)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for label, url_for in databases(not (args.no_postgres or args.quick), stack):
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-startup-")))
            path = prepare(folder, url_for(folder), account, sink, args.people)
            commands: dict[str, Command] = {
                "python -c pass": ([sys.executable, "-c", "pass"], None, None, None),
                "floor, quiet: " + QUIET_FLOOR[label][7:]: ([sys.executable, "-c", QUIET_FLOOR[label]], None, None, None),
                "floor, full: import ORM + imapclient": ([sys.executable, "-c", FLOOR], None, None, None)}
            start = [sys.executable, "-m", "cli"] if args.compare else [str(BIN / "unmentoring")]
            sources = [("", ROOT if args.compare else None)] + ([(", before", args.compare)] if args.compare else [])
            for name, source in sources:
                commands[f"unmentoring --help{name}"] = ([*start, "--help"], None, source, None)
            tick = [*start, "tick", "--config", str(path)]
            for name, source in sources:
                commands[f"unmentoring tick (idle){name}"] = (tick, idle_output_ok, source, None)
            commands["unmentoring tick (idle, full run)"] = (tick, idle_output_ok, None, forget_quiet(config.load(path, env={}).database_url))
            before = len(sink.messages)
            print(table(f"{label}, {args.people} people", measure(commands, env, runs)))
            assert len(sink.messages) == before, "an idle tick sent mail"
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
