"""The past pairs rebuilt from the matches: one query, packed keys, exact merging; the stored index equals them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from config import Settings
from models import Match, MatchMember, Outcome, Participant, Round, Status
from models.db import make_engine, sessions, upgrade
from rounds import lifecycle
from rounds.history import eligible, history_from_matches
from rounds.pair_index import past_pairs, rebuild

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
ROUNDS = {   # each round's groups, with the reports on each in order
    1: [([1, 2], [True]), ([3, 4, 5], [False, True]), ([6, 7], [True, False])],
    2: [([2, 1], [False]), ([3, 6], [True, False]), ([4, 5], [])],
    3: [([6, 4], [])],
}


def add_people(session: Session, count: int) -> None:
    for n in range(1, count + 1):
        status = Status.PAUSED if n == count else Status.ACTIVE
        session.add(Participant(id=n, email=f"p{n}@org{n % 2}.example.org", reply_token=f"tok{n}", status=status,
                                skip_next=n == 2))


def add_round(session: Session, number: int, groups: list[tuple[list[int], list[bool]]]) -> None:
    """A round whose matches get these reports, in order; reports at one instant are ordered by id."""
    rnd = Round(id=number, number=number, seed=number, opened_at=T0 + timedelta(days=30 * number))
    session.add(rnd)
    for k, (members, reports) in enumerate(groups):
        match = Match(round_id=number, token=f"r{number}m{k}",
                      members=[MatchMember(participant_id=p) for p in members])
        reported = rnd.opened_at + timedelta(days=3)
        match.outcomes = [Outcome(met=met, reported_at=reported) for met in reports]
        session.add(match)
        session.flush()


def test_past_pairs_keep_latest_round_and_whether_they_ever_met(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with sessions(engine)() as session:
        add_people(session, 7)
        for number, groups in ROUNDS.items():
            add_round(session, number, groups)
        session.commit()
        history = history_from_matches(session)
        rebuild(session)
        stored = past_pairs(session)
        candidates = eligible(session)
    engine.dispose()
    expected = {
        (1, 2): (2, True),    # met in round 1, repeated in round 2 and not met: it still met once
        (3, 4): (1, True), (3, 5): (1, True),  # trio: not met, then a later report says met
        (4, 5): (2, True),    # in the round 1 trio and again, unreported, in round 2
        (6, 7): (1, False),   # met, then not met: the latest report counts
        (3, 6): (2, False),
        (4, 6): (3, True),    # nobody reported: counts as met, so it is not offered again soon
    }
    assert {pair: history.lookup(*pair) for pair in expected} == expected
    assert history.lookup(2, 1) == (2, True) and history.lookup(1, 3) is None
    assert (len(history), history.max_round) == (len(expected), 3)
    assert stored == history
    assert [(c.id, c.skip_next) for c in candidates] == [(n, n == 2) for n in range(1, 7)]


def test_a_round_opens_as_drawn_when_someone_is_paused_meanwhile(database_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the organiser's `participants pause` can commit between the draw and
    loading the people it placed; the round goes ahead as drawn instead of failing."""
    engine = make_engine(database_url)
    upgrade(engine)
    with sessions(engine).begin() as session:
        add_people(session, 7)
    drawn_plan = lifecycle.plan

    def plan_then_pause(session: Session, settings: Settings, seed: int | None = None,
                        now: datetime | None = None) -> lifecycle.Plan:
        drawn = drawn_plan(session, settings, seed, now)
        if engine.dialect.name == "postgresql":  # on SQLite the organiser's command waits for the write lock
            with sessions(engine).begin() as organiser:
                organiser.execute(update(Participant).where(Participant.id == 1).values(status=Status.PAUSED))
        return drawn

    monkeypatch.setattr(lifecycle, "plan", plan_then_pause)
    with sessions(engine).begin() as session:
        rnd = lifecycle.open_round(session, Settings(), T0, source="test", seed=1)
        placed = sorted(m.participant_id for match in rnd.matches for m in match.members)
    engine.dispose()
    assert placed == [1, 3, 4, 5, 6], "everyone active at the draw except the one skipping (2)"
