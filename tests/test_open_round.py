"""Opening a round in bulk queues the very emails, matches and members that introducing one group at a
time did, and a failure anywhere in it saves nothing (both databases)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Collection, Iterator, Sequence

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import config
from inbound.tokens import new_token
from mailer.headers import Unwritable
from mailer.compose import new_message_id
from mailer.outbox import _queue, base_context, sub_address
from mailer.render import render
from models import AuditEvent, Match, MatchMember, OutboundMessage, Participant, Round, SitOut, Status
from models.db import make_engine, sessions
from tests.harness.schema import at_head
from rounds import introductions, lifecycle
from rounds.introductions import group_context

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
NAMES = ["Siân Evans", "José García", "Łukasz Nowak", "Zoë O'Brien", "李 Wei", "Ngozi Okafor", "Björn Ångström",
         "Sam \"the fox\" Lee", "Aoife Ní Bhriain", "Kim", "Priya Patel"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    at_head(made)
    with sessions(made).begin() as session:
        session.add_all(Participant(
            email=f"p{n}@org{n % 4}.example", name=name, organisation=f"Organisation {n % 4}",
            role="Analyst" if n % 2 else "", bio="Open data, café culture." if n % 3 else "",
            video=f"https://meet.example/p{n}" if n % 4 == 1 else "", phone="0113 496 0000" if n == 2 else "",
            call_me="Jo" if n == 1 else "", status=Status.ACTIVE, reply_token=f"tp{n:03d}", confirmed_at=NOW)
            for n, name in enumerate(NAMES))
    yield made
    made.dispose()


def settings_for(database_url: str, tmp_path: Path) -> config.Settings:
    return config.from_mapping({
        "service": {"address": "coffee@example.org", "name": "Café ☕", "organiser": "organiser@example.org",
                    "data_dir": str(tmp_path / "data"), "unsubscribe_url": "https://example.org/leave/{token}"},
        "database": {"url": database_url},
        "smtp": {"host": "127.0.0.1", "port": 1, "tls": "none", "verp": True},
    }, env={})


def one_group_at_a_time(session: Session, settings: config.Settings, rnd: Round,
                        groups: Sequence[Sequence[Participant]], extras: Collection[int], now: datetime,
                        trials: object = None) -> None:
    """How a round was introduced before the bulk path: a Match flushed per group, then each member's
    copy rendered and composed on its own (`enqueue_group` as it was, through `_queue`). The meeting
    help (host, options, starter) is chosen as the bulk path chooses it: what is compared is the writing."""
    helping = introductions.Helping.read(session, settings, rnd, groups, None, now)
    for n, members in enumerate(groups):
        token = new_token()
        meeting = helping.meeting(members, token, n)
        match = Match(round_id=rnd.id, token=token, created_at=now,
                      odd_one_id=next((p.id for p in members if p.id in extras), None),
                      members=[MatchMember(participant_id=p.id) for p in members], **meeting.columns)
        session.add(match)
        session.flush()
        context = group_context(settings, rnd, members)
        message_id = new_message_id("intro", match.token, settings.service.domain)
        for m in members:
            rendered = render("group/intro", {**base_context(settings), **context, **meeting.personal[m.id]},
                              settings.templates_path)
            _queue(session, settings, template="group/intro", now=now, token=match.token,
                   recipients=[(p.email, p.name) for p in members], deliver_to=m.email, message_id=message_id,
                   context=context, rendered=rendered, thread=[], subject="", auto="auto-generated",
                   reply_to=[sub_address(settings, match.token)] + [p.email for p in members],
                   unsubscribe=sub_address(settings, m.reply_token), participant_id=m.id, in_reply_to=None,
                   dedupe_key=f"intro:{match.id}:{m.id}",
                   mail_from=sub_address(settings, f"b-{m.reply_token}") if settings.smtp.verp else None)
        match.intro_message_id = message_id


def opened(engine: Engine, settings: config.Settings) -> dict[str, Any]:
    """Open round 1 with seed 5 and read back what it saved, with what is random each time (match ids
    and tokens, the random part of Message-IDs, MIME boundaries) replaced by its place; then roll back."""
    with sessions(engine)() as session, session.begin():
        lifecycle.open_round(session, settings, NOW, source="organiser", seed=5)
        session.flush()
        matches = list(session.scalars(select(Match).order_by(Match.id)))
        places = {m.token: f"T{n}" for n, m in enumerate(matches)} | {str(m.id): f"M{n}" for n, m in enumerate(matches)}
        rows = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
        saved = {
            "matches": [(m.odd_one_id, sorted(x.participant_id for x in m.members), _same(m.intro_message_id, places),
                         m.created_at) for m in matches],
            "outbox": [(r.kind, _same(r.dedupe_key or "", places), r.mail_from, r.recipients, r.subject, r.stranger,
                        r.rate_key, r.participant_id, _same(r.token or "", places), r.status, r.attempts,
                        r.next_try_at, r.created_at, r.in_reply_to, _same(r.raw.decode("ascii"), places))
                       for r in rows],
            "sit_outs": [(s.participant_id, s.reason) for s in session.scalars(select(SitOut))],
        }
        session.rollback()
    return saved


def _same(text: str, places: dict[str, str]) -> str:
    text = re.sub(r"=_[0-9a-f]{24}", "=_BOUNDARY", text)
    text = re.sub(r"(<\w+\.\w+\.)[0-9a-f]{12}@", r"\1RANDOM@", text)
    return re.sub(r"[a-z2-7]{16}|(?<=intro:)\d+", lambda m: places.get(m.group(0), m.group(0)), text)


def test_a_round_opened_in_bulk_queues_the_same_emails_as_one_group_at_a_time(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(database_url, tmp_path)
    monkeypatch.setattr(introductions, "CHUNK", 2)  # three chunks, the last one a trio
    bulk = opened(engine, settings)
    monkeypatch.setattr(introductions, "introduce_all", one_group_at_a_time)
    reference = opened(engine, settings)
    assert len(bulk["matches"]) == 5 and sorted(len(m[1]) for m in bulk["matches"]) == [2, 2, 2, 2, 3]
    assert len(bulk["outbox"]) == 11 and "List-Unsubscribe-Post" in bulk["outbox"][0][-1]
    assert bulk == reference


def test_a_round_that_fails_in_a_later_chunk_saves_nothing(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An address we cannot write, met only after earlier chunks were inserted: the round is not opened,
    and none of its matches, members or emails stays behind."""
    settings = settings_for(database_url, tmp_path)
    monkeypatch.setattr(introductions, "CHUNK", 1)
    chunks, inner = [], introductions._Writer._write
    monkeypatch.setattr(introductions._Writer, "_write", lambda *args: chunks.append(1) or inner(*args))
    with sessions(engine).begin() as session:
        session.add(Participant(email="zoë@exämple.org", name="Zoë", status=Status.ACTIVE, reply_token="tzoe"))
    with pytest.raises(Unwritable, match="zoë@exämple.org"):
        with sessions(engine).begin() as session:
            lifecycle.open_round(session, settings, NOW, source="organiser", seed=5)
    assert chunks, "the failing group came after at least one chunk's emails were inserted"
    with sessions(engine)() as session:
        for table in (Round, Match, MatchMember, OutboundMessage, SitOut, AuditEvent):
            assert session.scalars(select(table)).all() == [], table.__name__


def test_an_insert_that_fails_in_the_writer_thread_fails_the_whole_round(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk's rows are inserted in a writer thread; its error reaches the round's
    transaction, which rolls back everything, the chunks already inserted included."""
    settings = settings_for(database_url, tmp_path)
    monkeypatch.setattr(introductions, "CHUNK", 1)
    inserted, inner = [], introductions._Writer._write

    def full_disk(writer: Any, chunk: Any) -> None:
        if len(inserted) == 2:
            raise OSError("No space left on device")
        inner(writer, chunk)
        inserted.append(chunk)
    monkeypatch.setattr(introductions._Writer, "_write", full_disk)
    with pytest.raises(OSError, match="No space left"):
        with sessions(engine).begin() as session:
            lifecycle.open_round(session, settings, NOW, source="organiser", seed=5)
    assert len(inserted) == 2
    with sessions(engine)() as session:
        for table in (Round, Match, MatchMember, OutboundMessage, SitOut, AuditEvent):
            assert session.scalars(select(table)).all() == [], table.__name__
