"""The quiet tick (issue 15): a run that finds no mail and nothing due stops early, and is never wrong."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text

import libpq_read
from database_url import libpq_url

from mailer.attempts import recover
from mailer.send import deliver_due
from models import Match, OutboundMessage, OutStatus, Participant, Quiet, Round, Status
from models.db import reading, sessions
from models.quiet import UNTRACKED
from quiet_tick import nothing_to_do
from report.digest import queue_digest
from rounds.lifecycle import STEPS, booked_checkin_due, open_round
from tests.app import Service
from tests.mail import incoming
from tick import tick

OPENED = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
MEETING = datetime(2026, 11, 12, 14, tzinfo=timezone.utc)
PEOPLE = 8


def running_round(service: Service) -> list[datetime]:
    """A round opened on 2 November, its introductions sent, one group booked for 12 November; the
    times its steps fall due (nudge, check-in, the booked group's check-in, the next opening)."""
    settings = service.settings
    with service.session() as session, session.begin():
        session.add_all(Participant(email=f"p{n}@org{n % 3}.example.net", status=Status.ACTIVE,
                                    reply_token=f"t{n:03d}", confirmed_at=OPENED - timedelta(days=30))
                        for n in range(PEOPLE))
    with service.session() as session, session.begin():
        rnd = open_round(session, settings, OPENED, source="organiser", seed=1)
        match = session.scalars(select(Match).order_by(Match.id)).first()
        assert match is not None
        match.booked_start, match.booking_state = MEETING, "booked"
        steps = [rnd.nudge_due, rnd.checkin_due, booked_checkin_due(settings, match), rnd.closes_at]
    assert deliver_due(sessions(service.engine), settings.smtp, now=lambda: OPENED).sent == PEOPLE
    return [step for step in steps if step is not None]


def would_act(service: Service, now: datetime) -> list[str]:
    """What a full tick at `now` would do besides reading the inbox: each round step and the digest,
    run and rolled back, and the outbox's due mail."""
    settings = service.settings
    with reading(service.engine)() as session:
        due_mail = session.scalars(select(OutboundMessage.id).where(
            OutboundMessage.status.in_([OutStatus.QUEUED, OutStatus.SENDING]),
            OutboundMessage.next_try_at <= now)).all()
    with service.session() as session:
        session.begin()
        notes = [step(session, settings, now, lambda: 1) for step in STEPS] + [queue_digest(session, settings, now)]
        session.rollback()
    return [note for note in notes if note] + [f"outbox {n}" for n in due_mail]


def times_to_check(steps: list[datetime], last: datetime) -> list[datetime]:
    """Every five hours from just after the opening (so each hour of the day comes round), and a minute
    either side of each step."""
    first, every = OPENED + timedelta(minutes=5), timedelta(hours=5)
    grid = [first + every * n for n in range(int((last - first) / every) + 1)]
    return sorted(set(grid + [s + timedelta(minutes=m) for s in steps for m in (-1, 0, 1)]))


def quiet_row(service: Service) -> Quiet:
    with reading(service.engine)() as session:
        row = session.get(Quiet, 1)
    assert row is not None
    return row


def test_a_quiet_tick_never_skips_what_a_full_one_would_do(service: Service) -> None:
    """Through a whole round and into the next: whenever the quiet check says "nothing to do", the
    round steps, the digest and the outbox agree; and a full run happens at least once a day."""
    steps = running_round(service)
    settings = service.settings
    quiet, full_days = 0, set()
    times = times_to_check(steps, datetime(2026, 12, 3, 12, tzinfo=timezone.utc))
    for now in times:
        if nothing_to_do(settings, now):
            quiet += 1
            assert would_act(service, now) == [], f"the quiet check skipped due work at {now}"
            continue
        report = tick(service.engine, settings, now=lambda: now)
        assert not report.errors, report.errors
        full_days.add(now.astimezone(settings.tz).date())
    every_day = {date(2026, 11, 2) + timedelta(days=n) for n in range(32)}
    assert every_day <= full_days, f"no full run on {sorted(every_day - full_days)}"
    assert quiet >= len(times) * 0.6, f"only {quiet} of {len(times)} runs were quiet"
    with reading(service.engine)() as session:
        first, second = session.scalars(select(Round).order_by(Round.number)).all()
        assert first.nudged_at is not None and first.checked_in_at is not None and first.closed_at is not None
        keys = set(session.scalars(select(OutboundMessage.dedupe_key).where(
            OutboundMessage.dedupe_key.startswith("group/checkin:"), OutboundMessage.created_at < first.checkin_due)))
    assert len(keys) >= 2, "the booked group was asked whether it met the working day after its meeting"


def test_mail_in_the_inbox_makes_the_next_run_a_full_one(service: Service) -> None:
    running_round(service)
    service.travel(OPENED + timedelta(days=2))
    service.tick()
    assert nothing_to_do(service.settings, service.clock())
    sent = len(service.smtp.messages)
    service.imap.deliver(incoming("Person 1 <p1@org1.example.net>", "pause", "PAUSE"))
    assert not nothing_to_do(service.settings, service.clock())
    result = service.tick()
    assert "inbox: 1 seen, 1 handled" in result.output, result.output
    assert [m.rcpt_tos for m in service.smtp.messages[sent:]] == [["p1@org1.example.net"]], "the reply was answered"
    assert nothing_to_do(service.settings, service.clock())


def test_a_changed_setting_makes_the_next_run_a_full_one(service: Service) -> None:
    """The next round opens at rounds.open_hour: moved earlier, the round opens at once, not at the old hour."""
    steps = running_round(service)
    opening = steps[-1]
    service.travel(opening - timedelta(minutes=30))
    assert "opened" not in service.tick().output
    assert quiet_row(service).until_at == int(opening.timestamp())
    hour = opening.astimezone(service.settings.tz).hour
    service.set("rounds", "open_hour", hour - 1)
    assert "round 2 opened" in service.tick().output


def test_a_command_that_changes_anything_clears_the_quiet_time(service: Service) -> None:
    running_round(service)
    service.travel(OPENED + timedelta(days=2))
    service.tick()
    assert quiet_row(service).until_at is not None
    assert service.cli("status").exit_code == 0
    assert quiet_row(service).until_at is not None, "a command that only reads changed nothing"
    result = service.cli("participants", "pause", "p2@org2.example.net")
    assert result.exit_code == 0, result.output
    assert quiet_row(service).until_at is None
    assert not nothing_to_do(service.settings, service.clock())


def test_writes_by_every_path_clear_the_quiet_time(service: Service) -> None:
    """The ORM, Core statements on a connection, and rows written on the driver's cursor."""
    running_round(service)
    now = OPENED + timedelta(days=2)

    def settle() -> None:
        tick(service.engine, service.settings, now=lambda: now)
        assert quiet_row(service).until_at is not None

    settle()
    with service.session() as session, session.begin():
        session.scalars(select(Participant)).first().name = "Renamed"  # type: ignore[union-attr]
    assert quiet_row(service).until_at is None
    settle()
    with service.engine.begin() as connection:
        connection.execute(text("UPDATE participants SET name = 'Again' WHERE id = 1"))
    assert quiet_row(service).until_at is None
    settle()
    with service.engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET status = 'sending' WHERE id = 1"))
    recover(service.engine)
    assert quiet_row(service).until_at is None
    assert not nothing_to_do(service.settings, now), "a message left half-sent is due at once"


def test_the_clock_going_back_other_settings_or_a_message_waiting_mean_a_full_run(service: Service) -> None:
    running_round(service)
    now = OPENED + timedelta(days=2)
    later = now + timedelta(minutes=10)
    tick(service.engine, service.settings, now=lambda: now)
    assert nothing_to_do(service.settings, later)
    assert not nothing_to_do(service.settings, now - timedelta(minutes=10))
    key = quiet_row(service).settings_key
    with service.engine.connect().execution_options(**{UNTRACKED: True}) as connection:
        connection.execute(text("UPDATE quiet SET settings_key = 'other'"))
        connection.commit()
        assert not nothing_to_do(service.settings, later)
        connection.execute(text("UPDATE quiet SET settings_key = :key"), {"key": key})
        connection.execute(text("UPDATE outbox SET status = 'queued', next_try_at = :at WHERE id = 1"),
                           {"at": now.replace(tzinfo=None)})
        connection.commit()
    assert not nothing_to_do(service.settings, later), "a message waits in the outbox"


QUIET_QUERIES = ("SELECT version_num FROM alembic_version",
                 "SELECT until_at, checked_at, settings_key FROM quiet WHERE id = 1",
                 "SELECT id, status, next_try_at FROM outbox ORDER BY id")


def test_libpq_reads_what_psycopg_reads_and_psycopg_stands_in(service: Service, monkeypatch: Any) -> None:
    """On PostgreSQL the quiet check reads through libpq itself (psycopg takes 150-200 ms to import);
    where no libpq loads, through psycopg, with the same answer."""
    if service.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    import psycopg

    running_round(service)
    now = OPENED + timedelta(days=2)
    tick(service.engine, service.settings, now=lambda: now)
    address = libpq_url(service.settings.database_url) or ""
    ours = libpq_read.Connection(address)
    with psycopg.connect(address) as theirs:
        for query in QUIET_QUERIES:
            expected = [tuple(None if v is None else str(v) for v in row) for row in theirs.execute(query).fetchall()]
            assert ours.execute(query).fetchall() == expected
    ours.close()
    with pytest.raises(libpq_read.LibpqError, match="password|authentication|does not exist"):
        libpq_read.Connection(address.replace("postgresql://", "postgresql://nobody@", 1)
                              if "@" not in address else address.rsplit("/", 1)[0] + "/no_such_database")
    assert nothing_to_do(service.settings, now + timedelta(minutes=10))
    monkeypatch.setattr(libpq_read, "_library", None)
    monkeypatch.setattr(libpq_read, "_candidates", lambda: ["/nowhere/libpq.so.5"])
    assert nothing_to_do(service.settings, now + timedelta(minutes=10))
    with service.engine.begin() as connection:
        connection.execute(text("UPDATE participants SET name = 'Sam' WHERE id = 1"))
    assert not nothing_to_do(service.settings, now + timedelta(minutes=10))
