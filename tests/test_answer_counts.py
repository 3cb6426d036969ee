"""The hourly count of answers to strangers, loaded once per batch (mailer/answer_counts.py), is
the count the database gives at every moment the batch may ask, as answers leave the hour and new
ones are written; past what the load covers it is asked of the database (both databases)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from mailer import answer_counts
from mailer.outbox import strangers_answered
from models import OutboundMessage
from models.db import make_engine, sessions
from tests.harness.schema import at_head

NOW = datetime(2027, 3, 9, 10, 0, tzinfo=timezone.utc)
# Answers to strangers queued over the last hour and a half, some at the same second.
AGES_MINUTES = [95, 61, 59.5, 59.5, 58, 55, 51, 49, 30, 2, 0.5]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    at_head(made)
    with sessions(made).begin() as session:
        session.add_all(_answer(NOW - timedelta(minutes=age), n) for n, age in enumerate(AGES_MINUTES))
        session.add(OutboundMessage(**{**_fields(NOW - timedelta(minutes=1), 99), "stranger": False}))
    yield made
    made.dispose()


def _fields(at: datetime, n: int) -> dict[str, object]:
    return dict(message_id=f"<a{n}@example.org>", kind="confirm", mail_from="coffee@example.org",
                recipients=f"s{n}@example.net", rate_key=f"s{n}@example.net", subject="Please confirm", raw=b"x",
                stranger=True, created_at=at, next_try_at=at)


def _answer(at: datetime, n: int) -> OutboundMessage:
    return OutboundMessage(**_fields(at, n))


def _from_database(engine: Engine, now: datetime, written: int) -> int:
    with sessions(engine).begin() as session:
        for n in range(written):
            session.add(_answer(NOW + timedelta(seconds=n), 100 + n))
        session.flush()
        counted = strangers_answered(session, now)
        session.rollback()
    return counted


@pytest.mark.parametrize("later", [timedelta(0), timedelta(seconds=30), timedelta(minutes=2),
                                   timedelta(minutes=9, seconds=59)])
@pytest.mark.parametrize("written", [0, 3])
def test_the_loaded_count_is_the_databases_as_answers_leave_the_hour(engine: Engine, later: timedelta,
                                                                     written: int) -> None:
    with Session(engine) as session:
        answer_counts.load(session, [], NOW)
        rows = [_answer(NOW + timedelta(seconds=n), 100 + n) for n in range(written)]
        answer_counts.written(session, rows)
        loaded = answer_counts.strangers(session, NOW + later)
    assert loaded is not None, "within ten minutes of the load the count is served from memory"
    assert loaded == _from_database(engine, NOW + later, written)


def test_past_what_the_load_covers_the_database_is_asked(engine: Engine) -> None:
    expected = _from_database(engine, NOW + timedelta(minutes=11), 0)
    with Session(engine) as session:
        answer_counts.load(session, [], NOW)
        assert answer_counts.strangers(session, NOW + timedelta(minutes=11)) is None
        assert answer_counts.strangers(session, NOW - timedelta(seconds=1)) is None
        assert strangers_answered(session, NOW + timedelta(minutes=11)) == expected
