"""Outbound benchmark: N introductions rendered, queued and sent by `mailer.send.deliver_due` to an
aiosmtpd sink, timed against raw smtplib sending the same stored bytes over one connection.

    .venv/bin/python bench/bench_outbound.py                 # 10,000 introductions, SQLite and PostgreSQL
    .venv/bin/python bench/bench_outbound.py --quick         # 1,000
    .venv/bin/python bench/bench_outbound.py --db sqlite --messages 5000 --profile

Setup (not timed): a fresh migrated database holding 2N active participants (realistic names and
organisations, some non-ASCII), paired across organisations. Ours, queue: one transaction, as
`rounds.lifecycle.open_round` does it, calling `rounds.introductions.introduce_all` with every pair
(match rows, members, and `group_copies` for "group/intro": render, compose; then the outbox rows,
in bulk). The matcher is not run: pairs are fixed so every run queues the same N emails
(bench_open.py times the whole `open_round` against rendering and composing alone). Ours, send: `deliver_due` to a
fresh `SmtpSink`. Baseline: `smtplib.SMTP` sending the stored bytes (read from the outbox rows
beforehand, not timed) over one connection to another fresh sink. Target: send at most 1.5x baseline.

Each phase runs in a fresh process, so its peak memory (RSS high-water mark minus RSS after imports)
is its own; the sink runs in a process of its own too, as a real mail server would, and every run
checks that the sink received exactly the outbox's copies: N distinct Message-IDs, two copies each
(each member of a pair gets their own, with their own List-Unsubscribe).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import pstats
import random
import resource
import smtplib
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

import config  # noqa: E402
from inbound.tokens import new_token  # noqa: E402
from mailer.send import deliver_due  # noqa: E402
from models import OutboundMessage, OutStatus, Participant, Round, Status, utcnow  # noqa: E402
from models.db import make_engine, sessions, upgrade  # noqa: E402
from rounds import introductions  # noqa: E402
from rounds.schedule import timeline  # noqa: E402
from tests.harness.postgres import Postgres, postgres_available  # noqa: E402
from tests.harness.smtpsink import SmtpSink  # noqa: E402

TARGET = 1.5
SPAWN = multiprocessing.get_context("spawn")

FIRST = ["Sam", "Kim", "Alex", "Priya", "Mohammed", "Zoë", "Siân", "José", "Łukasz", "Aoife", "Björn", "Ngozi",
         "François", "Chloé", "Oluwaseun", "Mei", "Søren", "Anaïs", "Dafydd", "Grace", "Rhiannon", "Tomás",
         "Fatima", "Hannah", "Kwame", "Ewa", "Jürgen", "Niamh", "Raj", "Ines"]
LAST = ["Jones", "Lee", "Evans", "Patel", "Khan", "Ångström", "O'Brien", "Nowak", "Müller", "Okafor", "García",
        "Nguyen", "Smith", "Williams", "Brown", "Taylor", "Davies", "Wilson", "Roberts", "Lefèvre", "李",
        "Ó Súilleabháin", "Kowalczyk", "Hughes", "MacLeod", "Dubois", "Andersen", "Mensah"]
ORGS = [("Leeds City Council", "leeds.gov.uk"), ("NHS England", "nhs.net"), ("Cabinet Office", "cabinetoffice.gov.uk"),
        ("Office for National Statistics", "ons.gov.uk"), ("Cyngor Caerdydd", "caerdydd.gov.uk"),
        ("Ville de Montréal", "montreal.ca"), ("Universität Wien", "univie.ac.at"),
        ("Greater Manchester Combined Authority", "greatermanchester-ca.gov.uk"),
        ("Department for Education", "education.gov.uk"), ("Scottish Government", "gov.scot"),
        ("Région Île-de-France", "iledefrance.fr"), ("Government Digital Service", "digital.cabinet-office.gov.uk"),
        ("Comhairle Contae Chorcaí", "corkcoco.ie"), ("Bristol City Council", "bristol.gov.uk")]
ROLES = ["Policy officer", "Service designer", "Analyst", "Data scientist", "User researcher", "Head of digital",
         "Product manager", "Developer", "Commissioning manager", "Économiste", ""]
BIOS = ["Working on adult social care data.", "Trying to make benefits letters readable.",
        "Interested in open standards, procurement and café culture.", "Responsable des données ouvertes.",
        "New to the public sector; ask me about retail logistics.", "", "", ""]


# ---------------------------------------------------------------- the people and their introductions


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def people(pairs: int, seed: int = 11) -> Iterator[Participant]:
    """2 x `pairs` active participants; the two of each pair are at different organisations."""
    rng, now = random.Random(seed), utcnow()
    for n in range(2 * pairs):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        org, domain = ORGS[(n // 2 * 5 + n % 2 * 3) % len(ORGS)]
        local = f"{_ascii(first) or 'p'}.{_ascii(last) or 'x'}.{n}"
        yield Participant(
            email=f"{local}@{domain}", name=f"{first} {last}", organisation=org, role=rng.choice(ROLES),
            bio=rng.choice(BIOS), video=f"https://meet.example/{local}" if rng.random() < 0.3 else "",
            phone=f"0113 496 {n % 10000:04d}" if rng.random() < 0.2 else "",
            links="https://blog.example/" + local if rng.random() < 0.1 else "",
            status=Status.ACTIVE, reply_token=new_token(), confirmed_at=now, created_at=now,
        )


def settings_for(url: str, data_dir: str, smtp_port: int = 1) -> config.Settings:
    raw = {
        "service": {"address": "coffee@example.org", "name": "Café Rencontres ☕", "organiser": "organiser@example.org",
                    "data_dir": data_dir},
        "database": {"url": url},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "tls": "none"},
    }
    return config.from_mapping(raw, env={})


# ---------------------------------------------------------------- phases, each in a fresh process


@dataclass
class Phase:
    seconds: float
    peak_mib: float
    detail: Any = None
    profile: str = ""


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(work: Callable[[], Any], profile: bool) -> Phase:
    """Time `work`; its peak memory is the RSS high-water mark above the RSS before it started."""
    before = _rss_mib()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    detail = work()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    return Phase(seconds, _peak_mib() - before, detail, _top(profiler) if profiler else "")


def setup(url: str, data_dir: str, pairs: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with sessions(engine).begin() as session:
        session.add_all(people(pairs))
    engine.dispose()


def queue(url: str, data_dir: str, profile: bool) -> Phase:
    """Open a round by hand: one transaction, `introduce_all` with every pair, as `open_round` does.
    `detail` is the part spent in `group_copies` (render, compose)."""
    settings, engine = settings_for(url, data_dir), make_engine(url)
    spent = _time_calls(introductions, "group_copies")
    with sessions(engine)() as session:
        everyone = list(session.scalars(select(Participant).order_by(Participant.id)))
        session.commit()  # end the read; the objects stay loaded (expire_on_commit=False)
        now = utcnow()

        def work() -> int:
            with session.begin():
                rnd = Round(number=1, seed=0, opened_at=now)
                session.add(rnd)
                session.flush()
                steps = timeline(now, now + timedelta(days=28))
                rnd.nudge_due, rnd.checkin_due, rnd.closes_at = steps.nudge, steps.checkin, steps.closes
                pairs = [everyone[at:at + 2] for at in range(0, len(everyone), 2)]
                introductions.introduce_all(session, settings, rnd, pairs, None, now)
            return len(everyone) // 2
        phase = _measure(work, profile)
    engine.dispose()
    phase.detail = spent[0]
    return phase


def _time_calls(module: Any, name: str) -> list[float]:
    """Wrap `module.name` (in this process only) to add up the seconds spent in it."""
    spent, inner = [0.0], getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
    setattr(module, name, timed)
    return spent


def send(url: str, data_dir: str, port: int, profile: bool) -> Phase:
    settings, engine = settings_for(url, data_dir, port), make_engine(url)
    Session_ = sessions(engine)
    with Session_() as session:  # connect and warm up outside the timed part, as the baseline does
        session.scalar(select(func.count(OutboundMessage.id)))
    phase = _measure(lambda: deliver_due(Session_, settings.smtp), profile)
    with Session_() as session:
        statuses = {s: n for s, n in session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status))}
    engine.dispose()
    phase.detail = (phase.detail.sent, phase.detail.deferred, phase.detail.failed, statuses)
    return phase


def baseline(url: str, port: int) -> Phase:
    """Raw smtplib, one connection: the least any sender does with the same envelopes and bytes."""
    engine = make_engine(url)
    with sessions(engine)() as session:
        rows = [(r.mail_from, r.recipients.split("\n"), r.raw) for r in session.execute(
            select(OutboundMessage.mail_from, OutboundMessage.recipients, OutboundMessage.raw).order_by(OutboundMessage.id))]
    engine.dispose()

    def work() -> int:
        client = smtplib.SMTP("127.0.0.1", port, timeout=30)
        for mail_from, recipients, raw in rows:
            client.sendmail(mail_from, recipients, raw)
        client.quit()
        return len(rows)
    return _measure(work, profile=False)


def outbox_ids(url: str) -> list[str]:
    engine = make_engine(url)
    with sessions(engine)() as session:
        ids = list(session.scalars(select(OutboundMessage.message_id)))
    engine.dispose()
    return ids


def in_fresh_process(fn: Callable[..., Any], *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=SPAWN) as pool:
        return pool.submit(fn, *args).result()


# ---------------------------------------------------------------- the sink, in its own process


def _serve_sinks(conn: Connection) -> None:
    """Start a fresh SmtpSink on "start" (answer: its port); on "collect", stop it and answer its Message-IDs."""
    sink: SmtpSink | None = None
    while (command := conn.recv()) != "exit":
        if command == "start":
            sink = SmtpSink().start()
            conn.send(sink.port)
        elif command == "collect" and sink is not None:
            sink.stop()
            conn.send([str(m.message["Message-ID"]) for m in sink.messages])
            sink = None


class SinkProcess:
    def __init__(self) -> None:
        self.conn, child = SPAWN.Pipe()
        self.process = SPAWN.Process(target=_serve_sinks, args=(child,), daemon=True)
        self.process.start()

    def fresh(self) -> int:
        self.conn.send("start")
        return int(self.conn.recv())

    def collect(self) -> list[str]:
        self.conn.send("collect")
        return list(self.conn.recv())

    def close(self) -> None:
        self.conn.send("exit")
        self.process.join(10)


def check_delivery(label: str, received: list[str], expected: list[str]) -> None:
    """Each Message-ID arrives once per copy in the outbox (a pair's introduction is a copy for each)."""
    extra = Counter(received) - Counter(expected)
    assert not extra, f"{label}: {len(extra)} Message-IDs received more often than queued"
    assert sorted(received) == sorted(expected), f"{label}: sink got {len(received)} messages, outbox has {len(expected)}"


# ---------------------------------------------------------------- one database, then the table


@dataclass
class Result:
    label: str
    messages: int
    bases: tuple[Phase, Phase]  # the baseline run before ours and after it (the machine may be busy)
    queue: Phase
    send: Phase

    @property
    def base(self) -> float:
        return (self.bases[0].seconds + self.bases[1].seconds) / 2


def bench(label: str, fresh_url: Callable[[str], str], pairs: int, sinks: SinkProcess, profile: bool) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-out-") as data_dir:
        url = fresh_url(data_dir)
        in_fresh_process(setup, url, data_dir, pairs)
        queued = in_fresh_process(queue, url, data_dir, profile)
        expected = in_fresh_process(outbox_ids, url)
        copies = 2 * pairs  # each member gets a copy of their own, with the same Message-ID
        assert len(expected) == copies and len(set(expected)) == pairs, (len(expected), pairs)
        before = in_fresh_process(baseline, url, sinks.fresh())
        check_delivery(f"{label} baseline", sinks.collect(), expected)
        sent = in_fresh_process(send, url, data_dir, sinks.fresh(), profile)
        check_delivery(f"{label} ours", sinks.collect(), expected)
        assert sent.detail[:3] == (copies, 0, 0) and sent.detail[3] == {OutStatus.SENT: copies}, sent.detail
        after = in_fresh_process(baseline, url, sinks.fresh())
        check_delivery(f"{label} baseline (again)", sinks.collect(), expected)
    return Result(label, pairs, (before, after), queued, sent)


def databases(which: str, stack: ExitStack) -> Iterator[tuple[str, Callable[[str], str]]]:
    """(label, data dir -> URL of a fresh empty database) for each database to bench."""
    if which in ("sqlite", "both"):
        yield "sqlite", lambda data_dir: f"sqlite:///{data_dir}/bench.sqlite3"
    if which in ("postgresql", "both"):
        if not postgres_available():
            print("postgresql: skipped, PostgreSQL binaries missing (bash scripts/install-test-servers)")
            return
        server = stack.enter_context(Postgres())
        yield "postgresql", lambda _data_dir: server.create_database()


def table(results: list[Result]) -> str:
    lines = [f"{'database':<10} {'messages':>8} {'baseline s':>15} {'queue s (enqueue)':>17} {'send s':>7} "
             f"{'total s':>8} {'send/base':>9} {'total/base':>10} {'send msg/s':>10} {'base msg/s':>10} "
             f"{'peak MiB q/s/b':>14}"]
    for r in results:
        total = r.queue.seconds + r.send.seconds
        bases = f"{r.base:.2f} ({r.bases[0].seconds:.1f}/{r.bases[1].seconds:.1f})"
        queue = f"{r.queue.seconds:.2f} ({r.queue.detail:.2f})"
        peaks = f"{r.queue.peak_mib:.0f}/{r.send.peak_mib:.0f}/{max(b.peak_mib for b in r.bases):.0f}"
        lines.append(
            f"{r.label:<10} {r.messages:>8} {bases:>15} {queue:>17} {r.send.seconds:>7.2f} {total:>8.2f} "
            f"{r.send.seconds / r.base:>8.2f}x {total / r.base:>9.2f}x {r.messages / r.send.seconds:>10.0f} "
            f"{r.messages / r.base:>10.0f} {peaks:>14}")
    verdicts = [f"{r.label}: send {r.send.seconds / r.base:.2f}x baseline "
                f"({'within' if r.send.seconds / r.base <= TARGET else 'ABOVE'} the {TARGET}x target), "
                f"rendered and sent {(r.queue.seconds + r.send.seconds) / r.base:.2f}x" for r in results]
    return "\n".join(lines + verdicts)


def _top(profiler: cProfile.Profile, limit: int = 18, order: str = "cumulative") -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(limit)
    return out.getvalue().strip("\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="introductions (each to a pair)")
    parser.add_argument("--quick", action="store_true", help="1,000 messages")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--profile", action="store_true",
                        help="run queue and send under cProfile (slower) and print where the time goes")
    args = parser.parse_args(argv)
    pairs = 1_000 if args.quick else args.messages
    results: list[Result] = []
    with ExitStack() as stack:
        sinks = SinkProcess()
        stack.callback(sinks.close)
        for label, fresh_url in databases(args.db, stack):
            results.append(bench(label, fresh_url, pairs, sinks, args.profile))
            print(f"{label}: {pairs} introductions queued, sent and checked", flush=True)
    print("\n" + table(results))
    print("baseline s: mean of raw smtplib before and after ours; queue s: introduce_all() with every pair, of which "
          "group_copies (render, compose) in brackets; peak MiB: RSS high-water mark of each phase's "
          "own process above its RSS as the phase starts (q = queue, s = send, b = baseline, messages preloaded)")
    for r in results if args.profile else []:
        print(f"\nprofile ({r.label}, queue; times above are under cProfile):\n{r.queue.profile}")
        print(f"\nprofile ({r.label}, send):\n{r.send.profile}")


if __name__ == "__main__":
    main()
