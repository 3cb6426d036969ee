"""`unmentoring demo`: the whole service on real mail, with nothing to install or configure.

A pure-Python IMAP server (pymap) and an in-process SMTP server (aiosmtpd) run on
loopback. A made-up community emails JOIN, confirms, says when and how it likes
to meet, gets introduced, books offered times and answers the calendar invitations,
chats in their group threads and replies MET / NOT MET in their own words over several
rounds, while the real `tick` runs between simulated days. Every email the
service sent is kept in a Maildir so you can read them afterwards.
"""
from __future__ import annotations

import mailbox
import random
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

import config
from demo.community import Person, community
from demo.replies import SERVICE, fresh
from demo.servers import Delivery, Sink, free_port, start_imap
from demo.simulate import World, react
from meetings.booking import BOOKED
from models import CalendarReply, Match, Participant, Round
from models.trials import Assignment, Experiment
from trials.store import plan_trial, start_trial, trial_view
from trials.tell import announce
from trials.variables import TrialError
from models.db import make_engine, sessions, upgrade
from rounds.views import next_step
from models.summary import collect_status
from report.build import Options, build_report
from tick import tick
from wording import plural

START = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
USER = "coffee"


def write_config(workdir: Path, imap_port: int, smtp_port: int, password: str) -> Path:
    path = workdir / "unmentoring.toml"
    path.write_text(
        f'[service]\naddress = "{SERVICE}"\nname = "Coffee Roulette (demo)"\n'
        f'organiser = "organiser@demo.example"\ndata_dir = "data"\n\n'
        f'[imap]\nhost = "127.0.0.1"\nport = {imap_port}\ntls = "none"\nuser = "{USER}"\npassword = "{password}"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\n\n[rounds]\nstart = "2026-12-01"\n'
    )
    return path


def run_demo(keep: str | None, people: int = 40, rounds: int = 6, seed: int = 1) -> Path:
    workdir = Path(keep or tempfile.mkdtemp(prefix="unmentoring-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    password, imap_port, smtp_port = secrets.token_hex(8), free_port(), free_port()
    sink = Sink(mailbox.Maildir(workdir / "sent-mail", create=True))
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    imap = start_imap(imap_port, USER, password)
    controller.start()
    try:
        settings = config.load(write_config(workdir, imap_port, smtp_port, password), env={})
        simulate(settings, sink, imap_port, password, community(people, rounds, random.Random(seed)), rounds, seed)
    finally:
        controller.stop()
        imap.terminate()
        imap.wait(10)
    return workdir


def simulate(settings: config.Settings, sink: Sink, port: int, password: str, people: list[Person], rounds: int,
             seed: int) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    rng, draws = random.Random(seed), random.Random(seed)
    world = World({p.email: p for p in people}, rng, START, out_of_office=people[1].email, dead=people[2].email)
    _plan_joins(world, people)
    days = 8 + 31 * rounds
    inbox = Delivery(port, USER, password)
    started, read = time.monotonic(), 0
    organisations = len({p.organisation for p in people})
    click.echo(f"A community of {plural(len(people), 'person')} from {plural(organisations, 'organisation')} "
               f"writes to {SERVICE} for {plural(rounds, 'round')}.")
    with click.progressbar(range(days), label="Simulated calendar", show_pos=True,
                           item_show_func=lambda d: (START + timedelta(days=d)).strftime("%d %b %Y") if d else "") as bar:
        for day in bar:
            when = START + timedelta(days=day)
            arriving = world.outbox.pop(day, [])
            inbox.deliver(arriving)
            if arriving or _step_due(engine, settings, when):
                tick(engine, settings, now=lambda: when, seeds=lambda: draws.randrange(2**31))
            for recipients, msg in sink.received[read:]:
                react(world, recipients, msg, day, when)
            read = len(sink.received)
            if (arriving or world.arms) and (world.trial is None or world.arms):
                world.trial, world.arms = _trial(engine, settings, when, seed)
    inbox.close()
    with sessions(engine)() as session:
        built = build_report(session, settings.data_path.parent / "report",
                             Options(title=settings.service.name, tz=settings.tz), START + timedelta(days=days))
    _summary(engine, settings, sink, time.monotonic() - started, START + timedelta(days=days), world.trial)
    click.echo(f"Open the network report in a browser: {built.index}")
    engine.dispose()


TRIAL = "cadence-demo"
TRIAL_ROUNDS = 36  # planned, so that a community of 40 passes the size check; the demo reads it after a few


def _trial(engine: Engine, settings: config.Settings, when: datetime, seed: int) -> tuple[str | None, dict[str, str]]:
    """The organiser plans and starts a cadence trial as soon as round 1 has opened (it counts from round 2):
    (None before then, else "" or why it was refused; each person's arm by address, for the simulation)."""
    with sessions(engine)() as session, session.begin():
        if session.scalar(select(Experiment.id).where(Experiment.name == TRIAL)) is None:
            if not session.scalar(select(func.count(Round.id))):
                return None, {}
            plan_trial(session, TRIAL, ["monthly", "two-monthly"], TRIAL_ROUNDS, when)
            try:
                experiment, _ = start_trial(session, TRIAL, when, seed, starters=bool(settings.meetings.starters.strip()))
            except TrialError as refused:
                return str(refused), {}
            announce(session, settings, experiment, when)
        return "", dict(session.execute(select(Participant.email, Assignment.arm).join(
            Assignment, Assignment.participant_id == Participant.id)).all())


def _step_due(engine: Engine, settings: config.Settings, when: datetime) -> bool:
    """Whether tick has a round step to take today (the demo skips quiet days to stay quick)."""
    with sessions(engine)() as session:
        due = next_step(session, settings)["at"]
    return due is not None and datetime.fromisoformat(due) <= when


def _plan_joins(world: World, people: list[Person]) -> None:
    for person in people:
        day = 0 if person.joins_round == 0 else 8 + 31 * (person.joins_round - 1) + world.rng.randint(3, 20)
        to = SERVICE if world.rng.random() < 0.7 else SERVICE.replace("@", "+localgovcamp@")
        text = world.rng.choice(["JOIN", "Hi, I'd like to join please!", "join"])
        subject = "JOIN" if text != "JOIN" else "Coffee roulette"
        world.later(day, fresh(person, subject, text, START + timedelta(days=day), to=to), 0, 2)


def _summary(engine: Engine, settings: config.Settings, sink: Sink, seconds: float, end: datetime,
             refused: str | None) -> None:
    figures = collect_status(engine)
    people = ", ".join(f"{n} {s}" for s, n in sorted(figures["participants"].items()))
    click.echo(f"\nDone in {seconds:.0f} s. Participants: {people}.")
    click.echo(f"The service sent {plural(len(sink.received), 'email')}; {plural(figures['quarantined'], 'message')} "
               f"{'was' if figures['quarantined'] == 1 else 'were'} quarantined.")
    click.echo(_meetings(engine))
    click.echo(_trial_result(engine, end, refused))
    click.echo(f"Read every email it sent in the Maildir {settings.data_path.parent / 'sent-mail'}")
    click.echo(f"Look around with: {shell_command(sys.argv[0], sys.executable, Path.cwd())} "
               f"--config {shlex.quote(str(settings.source))} " "round show")


def _meetings(engine: Engine) -> str:
    """One line on bookings: how many groups booked a time, and what came back from calendars."""
    with sessions(engine)() as session:
        groups = session.scalar(select(func.count(Match.id))) or 0
        booked = session.scalar(select(func.count(Match.id)).where(Match.booking_state == BOOKED)) or 0
        answers = dict(session.execute(select(CalendarReply.partstat, func.count()).where(CalendarReply.applied)
                                       .group_by(CalendarReply.partstat)).all())
    return (f"{booked} of {plural(groups, 'group')} booked a time by email; calendars sent "
            f"{plural(answers.get('ACCEPTED', 0), 'acceptance')} and {plural(answers.get('DECLINED', 0), 'decline')} "
            f"(each decline offered fresh times).")


def _trial_result(engine: Engine, end: datetime, refused: str | None) -> str:
    """The organiser's trial in one line: what it compares and what it found so far, or why it never started."""
    if refused:
        return f"The organiser's trial ({TRIAL}) was refused: {refused}"
    with sessions(engine)() as session:
        experiment = session.scalar(select(Experiment).where(Experiment.name == TRIAL))
        if experiment is None:
            return "No trial ran (round 1 never opened)."
        view = trial_view(session, experiment, end)
    return (f"The organiser's trial of {view.variable.what} ({TRIAL}), after {plural(view.rounds_done, 'round')}: "
            f"{view.sentence}")


def shell_command(argv0: str, python: str, cwd: Path) -> str:
    """How to run unmentoring from the shell the demo was started in: the program that is running (or the
    one installed beside this Python, e.g. .venv/bin/unmentoring), by the bare name when PATH finds that
    same program, else by its path (relative to `cwd` when it is inside it)."""
    started = Path(argv0)
    program = started if started.name == "unmentoring" and started.exists() else Path(python).parent / "unmentoring"
    if not program.exists():
        return "unmentoring"
    found = shutil.which("unmentoring")
    if found and Path(found).resolve() == program.resolve():
        return "unmentoring"
    absolute = program if program.is_absolute() else cwd / program
    try:
        relative = absolute.relative_to(cwd)
        return shlex.quote(str(relative if relative.parent != Path(".") else Path(".") / relative))
    except ValueError:
        return shlex.quote(str(absolute))
