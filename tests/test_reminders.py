"""A round's nudge and check-in, queued in bulk, are the very emails (and the same fresh times on the
matches) that reminding one group at a time queued; the same groups are left out (both databases)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

import config
from mailer.headers import Unwritable
from mailer.outbox import enqueue_group
from models import Match, OutboundMessage, Outcome, Participant, Round, Status
from models.db import make_engine, sessions
from tests.harness.schema import at_head
from models.quiet import UNTRACKED
from rounds import lifecycle, reminders
from rounds.history import match_outcomes
from rounds.introductions import group_context

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
NAMES = ["Siân Evans", "José García", "Łukasz Nowak", "Zoë O'Brien", "李 Wei", "Ngozi Okafor", "Björn Ångström",
         "Sam \"the fox\" Lee", "Aoife Ní Bhriain", "Kim", "Priya Patel", "Tomás Ó Briain", "Ana Lúcia", "Omar",
         "Jo"]
ZONES = ["", "Europe/Paris", "America/New_York", ""]
FREE = ['[{"day": "Tue", "from": "09:00", "to": "12:00"}, {"day": "Thu", "from": null, "to": null}]', "",
        '[{"day": "Wed", "from": "14:00", "to": "17:00"}]']


# ------------------------------------------------------------------ the way it was: one group at a time


def one_group_at_a_time(session: Session, settings: config.Settings, rnd: Round, template: str, now: datetime) -> int:
    """How `lifecycle.remind` queued a round's reminders before the bulk path (kept here to compare with)."""
    reported = set(match_outcomes(session)) | lifecycle.asked(session, template, rnd)
    sent = 0
    for match in rnd.matches:
        if match.id in reported or lifecycle._own_checkin(settings, rnd, match):
            continue
        if template == "group/nudge" and lifecycle.booked(match):
            continue
        remind_one_group(session, settings, rnd, match, template, now)
        sent += 1
    return sent


def remind_one_group(session: Session, settings: config.Settings, rnd: Round, match: Match, template: str,
                     now: datetime) -> None:
    from meetings.offer import offer_context, offer_times, where_to_meet

    members = [session.get_one(Participant, m.participant_id) for m in match.members]
    personal = None
    if template == "group/nudge":
        host = session.get(Participant, match.host_id) if match.host_id else None
        starts = offer_times(session, settings, match, members, rnd.checkin_due, now)
        personal = offer_context(settings, starts, members, host, where_to_meet(
            settings, members, host or members[0], match.token), match.starter)
    enqueue_group(session, settings, template=template, members=members, token=match.token, now=now,
                  context=group_context(settings, rnd, members), thread=match.intro_message_id or None,
                  dedupe_key=f"{template}:{match.id}", personal=personal)


def booked_checkins_one_at_a_time(session: Session, settings: config.Settings, now: datetime) -> int:
    """How `lifecycle.step_booked_checkins` asked booked groups "Did you meet?" before (its count)."""
    rnd = lifecycle.current_round(session)
    assert rnd is not None
    met = session.scalars(select(Match).where(Match.round_id == rnd.id, Match.booked_start.is_not(None),
                                              Match.booked_start < now)).all()
    done = set(match_outcomes(session)) | lifecycle.asked(session, "group/checkin", rnd)
    due = [m for m in met if m.id not in done and lifecycle._own_checkin(settings, rnd, m)
           and (lifecycle.booked_checkin_due(settings, m) or now) <= now]
    for match in due:
        remind_one_group(session, settings, rnd, match, "group/checkin", now)
    return len(due)


# ------------------------------------------------------------------ a round in every state a group can be in


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    at_head(made)
    with sessions(made).begin() as session:
        session.add_all(Participant(
            email=f"p{n}@org{n % 4}.example", name=name, organisation=f"Organisation {n % 4}",
            video=f"https://meet.example/p{n}" if n % 4 == 1 else "", call_me="Jo" if n == 1 else "",
            time_zone=ZONES[n % len(ZONES)], availability=FREE[n % len(FREE)],
            meet_mode="in_person" if n in (3, 7) else "", place="Leeds Library" if n in (3, 7) else "",
            status=Status.ACTIVE, reply_token=f"tp{n:03d}", confirmed_at=NOW)
            for n, name in enumerate(NAMES))
    settings = settings_for(database_url, Path("/nonexistent"))
    with sessions(made).begin() as session:
        lifecycle.open_round(session, settings, NOW, source="organiser", seed=5)
    with sessions(made).begin() as session:
        vary(session)
    yield made
    made.dispose()


def vary(session: Session) -> None:
    """Give the round's seven groups each a different state (m[i]: the i-th match by id):
    0 booked after the round closes (no own check-in: checked in with the round), 1 a cancelled booking
    (nudged like any; its introduction has its own subject), 2 reported on, 3 no host and its introduction's subject gone, 4 already nudged
    (a member's copy queued), 5 booked inside the round (its own check-in), 6 nothing yet; one member of
    group 6 has left since (a group keeps its members)."""
    rnd = session.scalars(select(Round)).one()
    m = list(session.scalars(select(Match).order_by(Match.id)))
    assert len(m) == 7 and rnd.closes_at is not None
    m[0].booking_state, m[0].booked_start = "booked", rnd.closes_at + timedelta(days=2)
    m[1].booking_state, m[1].booked_start = "cancelled", NOW + timedelta(days=3)
    for row in session.scalars(select(OutboundMessage).where(OutboundMessage.message_id == m[1].intro_message_id)):
        row.subject = "Introducing you two"  # as an organiser's own template may word it
    session.add(Outcome(match_id=m[2].id, participant_id=m[2].members[0].participant_id, met=True, reported_at=NOW))
    m[3].host_id = None
    for row in session.scalars(select(OutboundMessage).where(OutboundMessage.message_id == m[3].intro_message_id)):
        row.subject = ""
    session.add(OutboundMessage(message_id="<nudge.x.1@example.org>", kind="nudge", raw=b"", created_at=NOW,
                                mail_from="coffee@example.org", recipients="p@example.org", subject="Nudge",
                                next_try_at=NOW, dedupe_key=f"group/nudge:{m[4].id}:{m[4].members[0].participant_id}"))
    m[5].booking_state, m[5].booked_start = "booked", NOW + timedelta(days=6, hours=2)
    session.get_one(Participant, m[6].members[0].participant_id).status = Status.LEFT


def settings_for(database_url: str, tmp_path: Path) -> config.Settings:
    return config.from_mapping({
        "service": {"address": "coffee@example.org", "name": "Café ☕", "organiser": "organiser@example.org",
                    "data_dir": str(tmp_path / "data"), "unsubscribe_url": "https://example.org/leave/{token}"},
        "database": {"url": database_url},
        "smtp": {"host": "127.0.0.1", "port": 1, "tls": "none", "verp": True},
    }, env={})


def queued(engine: Engine, step: Callable[[Session, Round], int]) -> dict[str, Any]:
    """Run `step` on the round and read back what it queued and what the matches hold now (through the
    session's own objects, loaded before), with the random part of Message-IDs and MIME boundaries
    replaced by their place; then roll back."""
    with sessions(engine)() as session, session.begin():
        rnd = session.scalars(select(Round)).one()
        matches = sorted(rnd.matches, key=lambda m: m.id)
        first = session.scalar(select(func.max(OutboundMessage.id))) or 0
        count = step(session, rnd)
        session.flush()
        rows = session.scalars(select(OutboundMessage).where(OutboundMessage.id > first).order_by(OutboundMessage.id))
        saved = {
            "count": count,
            "matches": [(m.id, m.options, m.options_at) for m in matches],
            "outbox": [(r.message_id.split(".")[0], r.kind, r.dedupe_key, r.mail_from, r.recipients, r.subject,
                        r.stranger, r.rate_key, r.participant_id, r.token, r.status, r.attempts, r.next_try_at,
                        r.created_at, r.in_reply_to, _same(r.raw.decode("ascii"))) for r in rows],
        }
        session.rollback()
    return saved


def _same(text: str) -> str:
    text = re.sub(r"=_[0-9a-f]{24}", "=_BOUNDARY", text)
    return re.sub(r"(<\w+\.\w+\.)[0-9a-f]{12}@", r"\1RANDOM@", text)


def match_ids(engine: Engine) -> list[int]:
    with sessions(engine)() as session:
        return list(session.scalars(select(Match.id).order_by(Match.id)))


def groups_in(saved: dict[str, Any], ids: list[int]) -> list[int]:
    """Which groups (by their place, 0-6) got the reminder."""
    return sorted({ids.index(int(row[2].split(":")[1])) for row in saved["outbox"]})


# ------------------------------------------------------------------ the tests


def test_the_nudge_in_bulk_queues_the_same_emails_and_times_as_one_group_at_a_time(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(database_url, tmp_path)
    monkeypatch.setattr(reminders, "CHUNK", 2)  # several chunks, a write in the thread while the next renders
    rnd_nudge = _round(engine).nudge_due
    bulk = queued(engine, lambda s, rnd: lifecycle.remind(s, settings, rnd, "group/nudge", rnd_nudge))
    reference = queued(engine, lambda s, rnd: one_group_at_a_time(s, settings, rnd, "group/nudge", rnd_nudge))
    assert groups_in(bulk, match_ids(engine)) == [1, 3, 6] and bulk["count"] == 3
    assert bulk["outbox"][0][5] == "Re: Introducing you two"
    assert all(row[0] == "<nudge" for row in bulk["outbox"])
    fresh = [m for m in bulk["matches"] if m[2] == rnd_nudge.replace(tzinfo=None) or m[2] == rnd_nudge]
    assert len(fresh) == 3, "the nudged groups' fresh times are stored on their matches"
    assert bulk == reference


def test_the_checkin_in_bulk_queues_the_same_emails_as_one_group_at_a_time(
        engine: Engine, database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path)
    due = _round(engine).checkin_due
    bulk = queued(engine, lambda s, rnd: lifecycle.remind(s, settings, rnd, "group/checkin", due))
    reference = queued(engine, lambda s, rnd: one_group_at_a_time(s, settings, rnd, "group/checkin", due))
    assert groups_in(bulk, match_ids(engine)) == [0, 1, 3, 4, 6] and bulk["count"] == 5
    assert [row[5] for row in bulk["outbox"] if row[2].startswith(f"group/checkin:{match_ids(engine)[1]}:")] == [
        "Re: Introducing you two"] * 2, "the reminder keeps its thread's subject"
    assert all("In-Reply-To: <intro." in row[-1] for row in bulk["outbox"])
    assert bulk == reference


def test_a_booked_groups_own_checkin_in_bulk_is_the_same_as_before(
        engine: Engine, database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path)
    after = NOW + timedelta(days=9)  # the working day after group 5's meeting is past; the round runs on
    bulk = queued(engine, lambda s, rnd: _count(lifecycle.step_booked_checkins(s, settings, after, lambda: 1)))
    reference = queued(engine, lambda s, rnd: booked_checkins_one_at_a_time(s, settings, after))
    assert groups_in(bulk, match_ids(engine)) == [5] and bulk["count"] == 1
    assert bulk == reference


def test_a_nudge_that_cannot_write_an_address_queues_nothing_and_keeps_the_times(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An address met in a later chunk that no email can carry: the step fails whole (its transaction
    rolls back), so no group is half-nudged and the next tick tries again."""
    settings = settings_for(database_url, tmp_path)
    monkeypatch.setattr(reminders, "CHUNK", 1)
    ids = match_ids(engine)
    with sessions(engine).begin() as session:
        member = session.scalars(select(Match).where(Match.id == ids[6])).one().members[-1]
        session.get_one(Participant, member.participant_id).email = "zoë@exämple.org"
    before = queued(engine, lambda s, rnd: 0)
    with pytest.raises(Unwritable, match="zoë@exämple.org"):
        with sessions(engine).begin() as session:
            lifecycle.step_nudge(session, settings, _round(engine).nudge_due, lambda: 1)
    assert queued(engine, lambda s, rnd: 0) == before
    with sessions(engine)() as session:
        assert session.scalars(select(Round)).one().nudged_at is None


def _round(engine: Engine) -> Round:
    with sessions(engine)() as session:
        rnd = session.scalars(select(Round)).one()
        session.expunge(rnd)
    return rnd


def _count(note: str | None) -> int:
    found = re.search(r"with (\d+) booked group", note or "")
    return int(found.group(1)) if found else 0


def test_a_write_that_fails_in_the_writer_thread_fails_the_whole_checkin(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk's rows are written in a writer thread; its error reaches the step's transaction,
    which rolls back the chunks already written too: no group is asked twice or left out."""
    settings = settings_for(database_url, tmp_path)
    monkeypatch.setattr(reminders, "CHUNK", 1)
    written, inner = [], reminders._Queue._write

    def full_disk(writer: Any, chunk: Any) -> None:
        if len(written) == 2:
            raise OSError("No space left on device")
        inner(writer, chunk)
        written.append(chunk)
    monkeypatch.setattr(reminders._Queue, "_write", full_disk)
    before = queued(engine, lambda s, rnd: 0)
    with pytest.raises(OSError, match="No space left"):
        with sessions(engine).begin() as session:
            lifecycle.step_checkin(session, settings, _round(engine).checkin_due, lambda: 1)
    assert len(written) == 2
    assert queued(engine, lambda s, rnd: 0) == before
    with sessions(engine)() as session:
        assert session.scalars(select(Round)).one().checked_in_at is None


def test_reminders_written_on_the_drivers_cursor_clear_the_quiet_time(engine: Engine, database_url: str,
                                                                       tmp_path: Path) -> None:
    """The outbox rows go in through the driver (COPY, or SQLite's executemany), which SQLAlchemy's
    events do not see: the commit must still clear the quiet time, or cron's next tick would skip the step
    that sends them."""
    settings = settings_for(database_url, tmp_path)
    with engine.connect() as connection:
        connection.execution_options(**{UNTRACKED: True})
        connection.execute(text("UPDATE quiet SET until_at = 4102444800 WHERE id = 1"))
        connection.commit()
    last = match_ids(engine)[6]
    with sessions(engine)() as session, session.begin():
        rnd = session.scalars(select(Round)).one()
        groups = [g for g in reminders.groups_of(session, rnd) if g.id == last]
        assert reminders.remind_all(session, settings, rnd, groups, "group/checkin", rnd.checkin_due) == 1
    with engine.connect() as connection:
        assert connection.execute(text("SELECT until_at FROM quiet")).scalar_one() is None


def test_a_group_with_nobody_left_in_it_is_not_reminded_and_stops_nobody_else(
        engine: Engine, database_url: str, tmp_path: Path) -> None:
    """Both members of group 6 are gone (their rows erased); one group at a time, its nudge failed on its
    missing first member and took the whole step down with it, at every tick."""
    settings = settings_for(database_url, tmp_path)
    ids = match_ids(engine)
    with sessions(engine).begin() as session:
        for member in session.scalars(select(Match).where(Match.id == ids[6])).one().members:
            session.delete(session.get_one(Participant, member.participant_id))
    with pytest.raises(IndexError):
        queued(engine, lambda s, rnd: one_group_at_a_time(s, settings, rnd, "group/nudge", rnd.nudge_due))
    bulk = queued(engine, lambda s, rnd: lifecycle.remind(s, settings, rnd, "group/nudge", rnd.nudge_due))
    assert groups_in(bulk, ids) == [1, 3] and bulk["count"] == 2
