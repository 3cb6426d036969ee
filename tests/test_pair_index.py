"""The stored index of past pairs (rounds.pair_index) stays equal to the history rebuilt from the matches.

A community runs through the real service on both databases: rounds drawn by tick, a top-up,
MET and NOT MET by email (then changed minds), a FORGET and the retention purge. After each
step the index a draw reads must equal `history_from_matches`; if any step stopped updating
it, the comparison after that step fails.
"""
from __future__ import annotations

import random
from array import array
from email.message import EmailMessage
from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, select

from matching import History, PastPair, Person, make_groups
from matching.history import pair_key
from models import MatchMember, Participant
from models.db import _alembic_config, create_private, make_engine, sessions
from rounds.history import history_from_matches
from rounds.pair_index import BUCKETS, KEY, VALUE, StoredHistory, bucket_of, past_pairs
from tests.app import Service
from tests.test_history_load import ROUNDS, T0
from tests.mail import incoming, reply_to
from tests.old_schema import OldTables
from tests.test_privacy import forget
from tests.test_rounds import PEOPLE, at, join_everyone, one_each, reply_all, run

LATE = ["Late One <late1@leeds.gov.uk>", "Late Two <late2@nhs.net>"]


def stored_like(history: History) -> StoredHistory:
    """The arrays `rounds.pair_index` would store for this history, as a draw reads them."""
    values = dict(history.packed_items())
    buckets = [sorted(k for k in values if bucket_of(k) == n) for n in range(BUCKETS)]
    return StoredHistory([array(KEY, keys) for keys in buckets],
                         [array(VALUE, [values[k] for k in keys]) for keys in buckets], history.max_round)


def test_the_stored_arrays_answer_every_lookup_as_the_dict_does() -> None:
    rng = random.Random(5)
    ids = range(1, 80)
    history = History([PastPair(*rng.sample(ids, 2), rng.randrange(1, 40), rng.choice([True, False, None]))
                       for _ in range(1500)])
    stored = stored_like(history)
    assert stored == history and len(stored) == len(history) and stored.max_round == history.max_round
    get, expected = stored.packed_get(), history.packed_get()
    assert all(get(pair_key(a, b)) == expected(pair_key(a, b)) for a in ids for b in range(a + 1, 82))
    assert stored.lookup(79, 3) == history.lookup(3, 79) and get(1 << 40) is None
    people = [Person(i, f"org{i % 4}", 0) for i in ids]
    assert make_groups(people, stored, 11) == make_groups(people, history, 11)


def test_the_migration_fills_the_index_from_the_matches_already_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        create_private(Path(str(engine.url.database)))
    config = _alembic_config(engine)
    command.upgrade(config, "0012")
    with engine.begin() as conn:
        seed_as_at_0012(conn, 7, ROUNDS)
    command.upgrade(config, "head")
    with sessions(engine)() as session:
        stored, rebuilt = past_pairs(session), history_from_matches(session)
    engine.dispose()
    assert (len(stored), stored.max_round) == (7, 3)
    assert stored == rebuilt and stored.lookup(6, 7) == (1, False) and stored.lookup(4, 6) == (3, True)


def seed_as_at_0012(conn: Connection, people: int, rounds: dict[int, list[tuple[list[int], list[bool]]]]) -> None:
    """The history add_people and add_round make, written into the tables as they were at 0012."""
    old = OldTables(conn, T0)
    for n in range(1, people + 1):
        old.put("participants", id=n, email=f"p{n}@org{n % 2}.example.org", reply_token=f"tok{n}",
                status="paused" if n == people else "active", skip_next=n == 2)
    match_id = outcome_id = 0
    for number, groups in rounds.items():
        opened = T0 + timedelta(days=30 * number)
        old.put("rounds", id=number, number=number, seed=number, opened_at=opened)
        for k, (members, reports) in enumerate(groups):
            match_id += 1
            old.put("matches", id=match_id, round_id=number, token=f"r{number}m{k}")
            for p in members:
                old.put("match_members", match_id=match_id, participant_id=p)
            for met in reports:
                outcome_id += 1
                old.put("outcomes", id=outcome_id, match_id=match_id, met=met, reported_at=opened + timedelta(days=3))


def stored_and_rebuilt(service: Service) -> tuple[History, History]:
    with service.session() as s:
        return past_pairs(s), history_from_matches(s)


def assert_in_step(service: Service) -> History:
    stored, rebuilt = stored_and_rebuilt(service)
    assert len(rebuilt) > 0
    assert (stored.max_round, dict(stored.packed_items())) == (rebuilt.max_round, dict(rebuilt.packed_items()))
    return stored


def ids_of(service: Service, message: EmailMessage) -> list[int]:
    emails = [a.addr_spec for a in message["To"].addresses]
    with service.session() as s:
        return sorted(s.scalars(select(Participant.id).where(Participant.email.in_(emails))))


def report(service: Service, intro: EmailMessage, member: int, text: str, when: str) -> None:
    address = intro["To"].addresses[member]
    service.imap.deliver(reply_all(intro, f"{address.display_name} <{address.addr_spec}>", text))
    run(service, at(when))


def join_late(service: Service) -> None:
    service.smtp.clear()
    for person in LATE:
        service.imap.deliver(incoming(person, "JOIN"))
    run(service, at("2026-12-02T09:00"))
    for captured in service.smtp.wait_for(len(LATE)):
        sender = next(p for p in LATE if captured.rcpt_tos[0] in p)
        service.imap.deliver(reply_to(captured.message, sender, "CONFIRM"))
    run(service, at("2026-12-02T09:05"))
    service.smtp.clear()


def test_the_index_follows_draws_reports_forget_and_purge(service: Service) -> None:
    service.set("service", "unconfirmed_days", 10)
    service.set("service", "retention_days", 1)
    join_everyone(service, at("2026-11-23T12:00"))
    service.imap.deliver(incoming("ann@a.org", "JOIN"))   # never confirms: the purge erases her
    run(service, at("2026-11-24T12:00"))
    service.smtp.clear()

    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 4 groups"]
    first, second, *_ = one_each(service.smtp.wait_for(len(PEOPLE)))
    assert_in_step(service)

    join_late(service)
    service.travel(at("2026-12-02T12:00"))
    assert "1 more group" in service.cli("round", "top-up", "--seed", "7").output
    assert_in_step(service)

    report(service, first, 0, "MET - lovely chat", "2026-12-03T10:00")
    report(service, second, 0, "NOT MET - we were both on leave", "2026-12-03T10:00")
    stored = assert_in_step(service)
    a, b = ids_of(service, second)[:2]
    assert stored.lookup(a, b) == (1, False), "NOT MET reached the index"

    report(service, first, 1, "NOT MET - it fell through after all", "2026-12-04T10:00")
    report(service, second, 1, "MET - we found a day", "2026-12-04T10:00")
    stored = assert_in_step(service)
    c, d = ids_of(service, first)[:2]
    assert (stored.lookup(a, b), stored.lookup(c, d)) == ((1, True), (1, False)), "the latest report counts"

    before = stored
    forget(service, f"{first['To'].addresses[0].addr_spec}", "2026-12-05")
    run(service, at("2026-12-06T10:00"))   # the purge: contents older than a day, Ann after ten days
    with service.session() as s:
        assert s.scalar(select(Participant).where(Participant.email == "ann@a.org")) is None
    assert assert_in_step(service) == before, "FORGET and the purge keep the groups and reports"

    assert "round 2 opened: 5 groups" in run(service, at("2027-01-04T10:00"))
    stored = assert_in_step(service)
    assert stored.max_round == 2
    with service.session() as s:
        drawn = s.scalars(select(MatchMember.participant_id).order_by(MatchMember.id.desc()).limit(2)).all()
    assert stored.lookup(*drawn) == (2, True), "round 2's groups are in the index, unreported"
