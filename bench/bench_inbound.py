"""Inbound benchmark: N realistic replies in a real Dovecot mailbox, polled and applied by
`inbound.poller.poll`, timed against a raw imapclient fetch + move of the same mailbox.

    .venv/bin/python bench/bench_inbound.py             # 10,000 messages, SQLite and PostgreSQL
    .venv/bin/python bench/bench_inbound.py --quick     # 1,000
    .venv/bin/python bench/bench_inbound.py --messages 5000 --profile --no-postgres

All measurements see an identical mailbox: after each run every message is moved
back to INBOX. Ours applies every message in its own savepoint, commits each batch
before moving it, and writes the outbox rows, but sends nothing (sending is the
mailer's own bench). The floor is the baseline plus the least a poller that records
each message must do; "required" adds, with our pure code and the bare DB-API, every
step a poller must take for each reply (read it properly, a savepoint, the Message-ID
check and record, the answer rendered, composed and queued); a second table times
those pure steps alone. Targets: ours at most 1.5x required (issue 15); 2x the raw fetch (issue 10, out of reach).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import Engine, event, func, select  # noqa: E402

import config  # noqa: E402
from inbound.commands import find_command  # noqa: E402
from inbound.parse import Parsed, parse  # noqa: E402
from inbound.poller import PollReport, poll  # noqa: E402
from inbound.robots import robot_reason  # noqa: E402
from mailer.compose import Envelope, address, compose, new_message_id  # noqa: E402
from mailer.render import Rendered, render  # noqa: E402
from models import InboundMessage, OutboundMessage  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.db import make_engine, sessions, upgrade  # noqa: E402
from tests.harness.dovecot import Dovecot, ImapAccount  # noqa: E402
from tests.harness.postgres import Postgres, postgres_available  # noqa: E402
from tests.mail import SERVICE, incoming  # noqa: E402

BATCH = config.ImapSettings.batch_size
WARM_UP = 40
MOVED = "bench/moved"
QUOTED = "\n".join(f"> line {n} of what we sent you, quoted back by a mail client" for n in range(12))


def replies(count: int, seed: int = 7) -> Iterator[bytes]:
    """A realistic mix: JOIN from new people, HELP, unknown text, robots, top-posted replies."""
    rng = random.Random(seed)
    for n in range(count):
        sender = f"Person {n} <p{n}@org{n % 97}.example.net>"
        kind = rng.random()
        if kind < 0.55:
            yield incoming(sender, rng.choice(["JOIN", "join please", "Re: Coffee?"]), "JOIN\n\nThanks!\n-- \nP")
        elif kind < 0.70:
            yield incoming(sender, "HELP", "What can I do?")
        elif kind < 0.85:
            yield incoming(sender, "Re: Coffee Roulette", f"Can I bring a friend?\n\nOn Mon wrote:\n{QUOTED}")
        else:
            yield incoming(sender, "Automatic reply: Coffee", "I am away until Monday.",
                           headers={"Auto-Submitted": "auto-replied"})


def fill(account: ImapAccount, count: int) -> None:
    with account.client() as imap:
        batch: list[bytes] = []
        for raw in replies(count):
            batch.append(raw)
            if len(batch) == 500:
                imap.multiappend("INBOX", batch)
                batch = []
        if batch:
            imap.multiappend("INBOX", batch)


def restore(account: ImapAccount) -> None:
    """Move everything filed anywhere back to INBOX, so the next run sees the same mailbox."""
    with account.client() as imap:
        for flags, _sep, name in imap.list_folders():
            if name == "INBOX" or b"\\Noselect" in flags:
                continue
            imap.select_folder(name)
            uids = imap.search("ALL")
            if uids:
                imap.move(uids, "INBOX")
        imap.select_folder("INBOX")
        assert imap.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] > 0


def baseline(account: ImapAccount, each_batch: Callable[[dict[int, Any]], None] = lambda _: None) -> float:
    """Login, SELECT, SEARCH ALL, then per batch FETCH BODY.PEEK[] and UID MOVE: the least any poller does.

    `each_batch` runs on the fetched batch before it is moved (see `floor`)."""
    start = time.perf_counter()
    imap = IMAPClient(account.host, account.port, ssl=False, timeout=60)
    imap.login(account.user, account.password)
    if not imap.folder_exists(MOVED):
        imap.create_folder(MOVED)
    imap.select_folder("INBOX")
    uids = sorted(imap.search(["ALL"]))
    for at in range(0, len(uids), BATCH):
        batch = uids[at:at + BATCH]
        bodies = imap.fetch(batch, ["BODY.PEEK[]"])
        assert len(bodies) == len(batch)
        each_batch(bodies)
        imap.move(batch, MOVED)
    imap.logout()
    return time.perf_counter() - start


@contextmanager
def raw_tables(url: str, *tables: str) -> Iterator[tuple[Any, Any, str]]:
    """A DB-API connection with `tables` created on a fresh database: (connection, cursor, placeholder)."""
    engine = make_engine(url)
    conn = engine.raw_connection()
    if engine.dialect.name == "sqlite":
        conn.driver_connection.isolation_level = "DEFERRED"  # type: ignore[union-attr]
    cursor = conn.cursor()
    for table in tables:
        cursor.execute(f"CREATE TABLE {table}")
    conn.commit()
    try:
        yield conn, cursor, "?" if engine.dialect.name == "sqlite" else "%s"
    finally:
        conn.close()
        engine.dispose()


SEEN = "floor_seen (message_id VARCHAR(998) PRIMARY KEY, sender VARCHAR(320))"


def floor(account: ImapAccount, url: str) -> float:
    """The baseline plus the least a poller that records each message must add: parse it with the
    standard library (compat32, the fast policy), INSERT its Message-ID and sender through the
    DB-API, and commit each batch before moving it. No ORM, no command, no answer."""
    parser = BytesParser(policy=compat32)
    with raw_tables(url, SEEN) as (conn, cursor, mark):
        def record(bodies: dict[int, Any]) -> None:
            for data in bodies.values():
                mail = parser.parsebytes(data[b"BODY[]"])
                cursor.execute(f"INSERT INTO floor_seen VALUES ({mark}, {mark})", (mail["Message-ID"], mail["From"]))
            conn.commit()

        return baseline(account, record)


ANSWERS = {"JOIN": "participant/confirm", "HELP": "participant/help"}


def required(account: ImapAccount, url: str, settings: config.Settings) -> float:
    """The floor of what the issue itself asks of each message, done with our own pure code and the
    DB-API, no ORM and no handlers: parse it (MIME walk, quote stripping), skip robots, find the
    command; in its own savepoint look up its Message-ID, record it and, unless a robot sent it,
    render and compose the one answer it gets and queue it; commit each batch before moving it."""
    service = settings.service

    def answer(mail: Parsed, template: str) -> tuple[str, str]:
        envelope = _envelope(settings, mail, template.rpartition("/")[2])
        return envelope.message_id, compose(_rendered(settings, mail, template), envelope)

    outbox = "floor_outbox (message_id VARCHAR(998) PRIMARY KEY, raw TEXT)"
    with raw_tables(url, SEEN, outbox) as (conn, cursor, mark):
        def record(bodies: dict[int, Any]) -> None:
            for data in bodies.values():
                mail = parse(data[b"BODY[]"])
                cursor.execute("SAVEPOINT one")
                cursor.execute(f"SELECT 1 FROM floor_seen WHERE message_id = {mark}", (mail.key,))
                assert cursor.fetchone() is None
                cursor.execute(f"INSERT INTO floor_seen VALUES ({mark}, {mark})", (mail.key, mail.sender))
                if not robot_reason(mail, service.domain):
                    cursor.execute(f"INSERT INTO floor_outbox VALUES ({mark}, {mark})", answer(mail, _template(mail)))
                cursor.execute("RELEASE SAVEPOINT one")
            conn.commit()

        return baseline(account, record)


def pure_steps(count: int, settings: config.Settings) -> dict[str, float]:
    """Seconds per message for each pure step the issue requires, no IMAP and no database: the answer
    steps are timed on the messages that get one (robots get none), then spread over all of them."""
    messages = list(replies(count))
    start = time.perf_counter()
    parsed = [parse(raw) for raw in messages]
    steps = {"parse (MIME, charsets, quotes)": time.perf_counter() - start}
    start = time.perf_counter()
    people = [mail for mail in parsed if not robot_reason(mail, settings.service.domain)]
    templates = [_template(mail) for mail in people]
    steps["robot check + command"] = time.perf_counter() - start
    start = time.perf_counter()
    rendered = [_rendered(settings, mail, template) for template, mail in zip(templates, people)]
    steps["render the answer (jinja)"] = time.perf_counter() - start
    start = time.perf_counter()
    for mail, text in zip(people, rendered):
        compose(text, _envelope(settings, mail, "answer"))
    steps["compose the answer"] = time.perf_counter() - start
    return {step: seconds / count for step, seconds in steps.items()}


def _template(mail: Parsed) -> str:
    """The answer a reply gets; it comes to our plain address, so no group thread and no question of ours."""
    command = find_command(mail.subject, mail.body)
    return ANSWERS.get(command.name if command else "", "participant/not_understood")


def _rendered(settings: config.Settings, mail: Parsed, template: str) -> Rendered:
    context = {"service_name": settings.service.name, "organiser": settings.service.organiser, "expires_days": 7,
               "name": mail.sender_name}
    return render(template, context, settings.templates_path)


def _envelope(settings: config.Settings, mail: Parsed, kind: str) -> Envelope:
    service = settings.service
    return Envelope(
        sender=address(service.address, service.name), to=[address(mail.sender, mail.sender_name)],
        reply_to=[address(service.address, service.name)], message_id=new_message_id(kind, "t0ken", service.domain),
        date=utcnow(), loop_id=service.domain, auto_submitted="auto-replied", in_reply_to=mail.message_id,
        references=[mail.message_id])


def settings_for(account: ImapAccount, url: str, data_dir: str) -> config.Settings:
    raw = {
        "service": {"address": SERVICE, "organiser": "organiser@example.org", "data_dir": data_dir,
                    "stranger_answers_per_hour": 10_000_000},  # measure answering, not the cap holding mail back
        "database": {"url": url},
        "imap": {"host": account.host, "port": account.port, "tls": "none", "user": account.user,
                 "password": account.password, "batch_size": BATCH},
        "smtp": {"host": "127.0.0.1", "port": 1, "tls": "none"},
    }
    return config.from_mapping(raw, env={})


def ours(account: ImapAccount, fresh_url: Callable[[str], str], profile: bool,
         count: list[int] | None = None) -> tuple[float, float, PollReport, str]:
    """Time `poll` alone on a fresh database (schema set up beforehand): seconds, this process's CPU
    seconds, its report, a profile text. `count`: add the statements `poll` ran to its first item."""
    with tempfile.TemporaryDirectory(prefix="bench-") as data_dir:
        settings = settings_for(account, fresh_url(data_dir), data_dir)
        engine = make_engine(settings.database_url)
        upgrade(engine)
        profiler = cProfile.Profile() if profile else None
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with STATEMENTS.counting() as ran:
            report = poll(sessions(engine), settings)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if count is not None:
            count[0] += ran[0]
        check(engine, report)
        engine.dispose()
    restore(account)
    return seconds, cpu, report, _top(profiler) if profiler else ""


def check(engine: Any, report: PollReport) -> None:
    with sessions(engine)() as session:
        recorded = session.scalar(select(func.count(InboundMessage.id)))
        queued = session.scalar(select(func.count(OutboundMessage.id)))
    assert recorded == report.seen, (recorded, report)
    assert queued and queued > 0


# Where a message's time goes, by area (cumulative, so nested rows overlap: compose is inside handlers).
AREAS = [
    ("parse (inbound/parse.py)", "inbound/parse.py", "parse"),
    ("handlers (dispatch)", "inbound/handlers.py", "dispatch"),
    ("  outbox enqueue", "mailer/outbox.py", "enqueue"),
    ("    compose (email headers)", "mailer/compose.py", "compose"),
    ("    render (jinja)", "mailer/render.py", "render"),
    ("  sent_today (answer limit)", "mailer/outbox.py", "sent_today"),
    ("commit (database)", "sqlalchemy/engine/base.py", "_commit_impl"),
    ("IMAP fetch", "imapclient/imapclient.py", "fetch"),
    ("IMAP move", "imapclient/imapclient.py", "move"),
]


def _top(profiler: cProfile.Profile) -> str:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    cumulative: dict[tuple[str, str], float] = {}
    for (file, _line, function), row in raw.items():
        cumulative[file, function] = cumulative.get((file, function), 0.0) + row[3]
    total = max(cumulative.values())
    lines = [f"{'area':32} {'seconds':>8} {'share':>6}"]
    for label, path, name in AREAS:
        seconds = sum(t for (file, function), t in cumulative.items() if file.endswith(path) and function == name)
        lines.append(f"{label:32} {seconds:>8.2f} {seconds / total:>6.0%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(10)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return "\n".join(lines) + "\n\ntop 10 by cumulative time:\n" + out.getvalue().strip("\n")


class Statements:
    """Statements the driver runs, counted within a block: SQLite's, by its trace callback on each new
    connection; PostgreSQL's round trips, by wrapping psycopg's `Cursor.execute` (the statements sent
    together in pipeline mode count once, as their pipeline)."""

    def __init__(self) -> None:
        self.count: list[int] | None = None
        event.listen(Engine, "connect", self._trace)
        execute, pipeline = psycopg.Cursor.execute, psycopg.Connection.pipeline

        def counted_execute(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            if cursor.connection._pipeline is None:
                self._add()
            return execute(cursor, *args, **kwargs)

        def counted_pipeline(connection: Any) -> Any:
            self._add()
            return pipeline(connection)

        psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
        psycopg.Connection.pipeline = counted_pipeline  # type: ignore[method-assign]

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        self.count = [0]
        try:
            yield self.count
        finally:
            self.count = None

    def _add(self, *_: Any) -> None:
        if self.count is not None:
            self.count[0] += 1

    def _trace(self, dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(self._add)


STATEMENTS = Statements()


def warm_up(dovecot: Dovecot) -> None:
    """Run required and ours once, untimed, on a few replies in a mailbox of their own, so that neither
    timed run pays one-off costs the other does not: the handlers' imports and SQLAlchemy's mapper
    set-up (ours), the templates' first compile (whichever runs first). `tick`'s start-up is
    `bench_startup.py`'s to measure."""
    account = dovecot.account()
    fill(account, WARM_UP)
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as data_dir:
        url = f"sqlite:///{data_dir}/required.sqlite3"
        required(account, url, settings_for(account, url, data_dir))
    restore(account)
    ours(account, lambda data_dir: f"sqlite:///{data_dir}/warm.sqlite3", profile=False)


def databases(use_postgres: bool, stack: ExitStack) -> Iterator[tuple[str, Callable[[str], str]]]:
    """(label, data dir -> URL of a fresh empty database) for each database to bench."""
    yield "sqlite", lambda data_dir: f"sqlite:///{data_dir}/bench.sqlite3"
    if use_postgres and postgres_available():
        server = stack.enter_context(Postgres())
        yield "postgresql", lambda _data_dir: server.create_database()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 messages")
    parser.add_argument("--profile", action="store_true",
                        help="then run ours again under cProfile: time by area, the top 10 functions by cumulative time and the top 25 by their own")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of required and of ours, alternating; the table shows each one's median")
    args = parser.parse_args(argv)
    count = 1_000 if args.quick else args.messages
    with ExitStack() as stack:
        dovecot = stack.enter_context(Dovecot())
        warm_up(dovecot)
        account = dovecot.account()
        start = time.perf_counter()
        fill(account, count)
        print(f"filled INBOX with {count} messages in {time.perf_counter() - start:.1f} s (batch size {BATCH})")
        rows, profiles, against = [], [], []
        for label, fresh_url in databases(not args.no_postgres, stack):
            raw_s = baseline(account)
            restore(account)
            with tempfile.TemporaryDirectory(prefix="bench-floor-") as data_dir:
                floor_s = floor(account, fresh_url(data_dir))
            restore(account)
            timed: dict[str, list[tuple[float, float, float]]] = {"required": [], "ours": []}
            for _ in range(args.repeat):  # alternating, so that a slow spell of the machine falls on both
                timed["required"].append(timed_required(account, fresh_url, count))
                our_n = [0]
                our_s, our_cpu, report, _ = ours(account, fresh_url, profile=False, count=our_n)
                timed["ours"].append((our_s, our_cpu, our_n[0] / report.seen))
            (required_s, required_cpu, required_each), (our_s, our_cpu, our_each) = (
                median_run(timed["required"]), median_run(timed["ours"]))
            rows.append((label, report.seen, raw_s, floor_s, required_s, our_s))
            against.append((label, our_s / required_s, our_cpu / required_cpu, our_each, required_each))
            if args.profile:
                profiles.append((label, ours(account, fresh_url, profile=True)[3]))
        print(table(rows))
        print(f"\nours / required, the medians of {args.repeat} runs each (the target: at most 1.5x):")
        for label, wall, cpu, our_each, required_each in against:
            print(f"{label:<11} {wall:5.2f}x in seconds, {cpu:5.2f}x in this process's CPU time "
                  "(the database server's and Dovecot's not counted); statements a message at the driver "
                  "(round trips on PostgreSQL): "
                  f"ours {our_each:.2f}, required {required_each:.2f}")
        with tempfile.TemporaryDirectory(prefix="bench-pure-") as data_dir:
            pure = settings_for(account, f"sqlite:///{data_dir}/unused.sqlite3", data_dir)
            print(steps_table(pure_steps(count, pure), rows[0][2] / count))
        for label, profile in profiles:
            print(f"\nprofile ({label}; a second run, under cProfile, so slower than the table):\n{profile}")


def timed_required(account: ImapAccount, fresh_url: Callable[[str], str], count: int) -> tuple[float, float, float]:
    """One run of `required` on a fresh database: seconds, this process's CPU seconds, statements a message."""
    with tempfile.TemporaryDirectory(prefix="bench-required-") as data_dir:
        url = fresh_url(data_dir)
        settings = settings_for(account, url, data_dir)
        cpu = time.process_time()
        with STATEMENTS.counting() as ran:
            seconds = required(account, url, settings)
        cpu = time.process_time() - cpu
    restore(account)
    return seconds, cpu, ran[0] / count


def median_run(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The median of each measure on its own (seconds, CPU seconds, statements a message)."""
    return tuple(statistics.median(run[n] for run in runs) for n in range(3))  # type: ignore[return-value]


def table(rows: list[tuple[str, int, float, float, float, float]]) -> str:
    lines = [f"{'database':<11} {'messages':>8} {'baseline s':>10} {'floor s':>8} {'ratio':>6} "
             f"{'required s':>10} {'ratio':>6} {'ours s':>8} {'ratio':>6} {'ours msg/s':>10}"]
    for label, n, raw_s, floor_s, required_s, our_s in rows:
        lines.append(f"{label:<11} {n:>8} {raw_s:>10.2f} {floor_s:>8.2f} {floor_s / raw_s:>5.1f}x "
                     f"{required_s:>10.2f} {required_s / raw_s:>5.1f}x "
                     f"{our_s:>8.2f} {our_s / raw_s:>5.1f}x {n / our_s:>10.0f}")
    return "\n".join(lines) + (
        "\n\nbaseline: raw imapclient fetch + move;"
        "\nfloor: the baseline, plus parsing each message (stdlib) and recording its Message-ID through the DB-API,"
        " one commit per batch;"
        "\nrequired: the baseline, plus what the issue asks of every message done with our pure code and the DB-API:"
        " parse, find the command, a savepoint, the Message-ID check and record, the answer rendered, composed"
        " and queued;\nours: inbound.poller.poll. Ratios are against the baseline.")


def steps_table(steps: dict[str, float], baseline_each: float) -> str:
    """Each pure step's time per message against the baseline's: what no database or ORM work can undo."""
    lines = [f"\nper message, pure steps only (no IMAP, no database): baseline {baseline_each * 1e6:.0f} us",
             f"{'step':32} {'us':>6} {'x baseline':>10}"]
    for step, seconds in [*steps.items(), ("all pure steps", sum(steps.values()))]:
        lines.append(f"{step:32} {seconds * 1e6:>6.0f} {seconds / baseline_each:>9.1f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
