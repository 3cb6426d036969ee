"""Rounds with groups of three or four, and matching on when and how people can meet, through the
real service (IMAP, SMTP, both databases)."""
from __future__ import annotations

import json
from itertools import combinations

from sqlalchemy import select

from mailer.send import deliver_due
from models import Match, MatchMember, Participant, Round, Status
from models.db import sessions
from rounds.lifecycle import run_due
from tests.app import Service
from tests.test_rounds import PEOPLE, at, groups_of, join_everyone, one_each, run


def pairs_of(groups: list[frozenset[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}


def test_groups_of_three_each_person_gets_one_introduction_naming_the_group(service: Service) -> None:
    service.set("rounds", "group_size", 3)
    join_everyone(service, at("2026-11-23T12:00"))
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 3 groups"]
    captured = service.smtp.wait_for(9)
    assert sorted(c.rcpt_tos[0] for c in captured) == sorted(p.split("<")[1][:-1] for p in PEOPLE), \
        "one introduction each"
    intros = one_each(captured)
    groups = groups_of(intros)
    assert sorted(len(g) for g in groups) == [3, 3, 3]
    for intro, group in zip(intros, groups):
        body = intro.get_body(("plain",)).get_content()
        assert "introduces you three to each other" in body
        assert all(address in body for address in group), "the introduction names every member"
    service.smtp.clear()

    assert "round 2 opened: 3 groups" in run(service, at("2027-01-04T10:00"))
    sent = service.smtp.wait_for(19)  # round 1's check-in (its nudge is skipped) and digest, round 2's introductions
    second = groups_of(one_each([c for c in sent if c.message["Subject"].startswith("Coffee Roulette: meet")]))
    assert sorted(len(g) for g in second) == [3, 3, 3]
    assert not pairs_of(groups) & pairs_of(second), "nobody shares a group with someone they met in round 1"


def add_people(service: Service, rows: list[dict[str, str]]) -> list[int]:
    with service.session() as s, s.begin():
        people = [Participant(email=f"g{i}@org{i}.example", name=f"G{i}", status=Status.ACTIVE,
                              reply_token=f"tg{i:04d}", confirmed_at=at("2026-11-02T10:00"), **row)
                  for i, row in enumerate(rows)]
        s.add_all(people)
        s.flush()
        return [p.id for p in people]


def drawn_groups(service: Service, number: int) -> list[set[int]]:
    with service.session() as s:
        query = (select(MatchMember.match_id, MatchMember.participant_id).join(Match).join(Round)
                 .where(Round.number == number))
        groups: dict[int, set[int]] = {}
        for match_id, pid in s.execute(query):
            groups.setdefault(match_id, set()).add(pid)
        return list(groups.values())


def test_a_group_of_four_has_one_extra_and_the_role_rotates(service: Service) -> None:
    service.set("rounds", "group_size", 3)
    add_people(service, [{}] * 10)
    Session_ = sessions(service.engine)
    extras = []
    for number, month in enumerate(("2026-12-01", "2027-01-04"), start=1):
        assert f"round {number} opened: 3 groups" in run_due(Session_, service.settings, at(f"{month}T10:00"))
        assert sorted(len(g) for g in drawn_groups(service, number)) == [3, 3, 4]
        with service.session() as s:
            big = next(g for g in drawn_groups(service, number) if len(g) == 4)
            odd = s.scalars(select(Match.odd_one_id).join(Round).where(Round.number == number,
                                                                   Match.odd_one_id.is_not(None))).all()
        assert len(odd) == 1 and odd[0] in big, "the group of four names its extra member"
        extras.append(odd[0])
    assert extras[0] != extras[1], "the extra place rotates"
    deliver_due(Session_, service.settings.smtp, now=lambda: at("2027-01-04T10:00"))
    bodies = [c.message.get_body(("plain",)).get_content() for c in service.smtp.wait_for(30)]  # intros, check-ins
    assert sum("introduces you four to each other" in b for b in bodies) == 8


def test_people_who_meet_in_person_in_the_same_place_are_paired(service: Service) -> None:
    """Four people, all in person only: two in Leeds, two in York. Every pairing is new and across
    organisations, so only their places decide; any seed pairs Leeds with Leeds."""
    ids = add_people(service, [{"meet_mode": "in_person", "place": town} for town in
                               ("Leeds", "York ", "leeds.", "YORK")])
    run_due(sessions(service.engine), service.settings, at("2026-12-01T10:00"))
    assert sorted(map(sorted, drawn_groups(service, 1))) == [[ids[0], ids[2]], [ids[1], ids[3]]]


def test_free_hours_are_compared_in_utc(service: Service) -> None:
    """Mondays 9-12 in New York are 14-17 in London in December: Ann (New York, 9-12) fits Bea
    (London, 14-17), and Cy (London, 9-12) fits Di (New York, 4-7), though a naive reading of
    the local hours would pair Ann with Cy."""
    def free(start: int, end: int) -> str:
        return json.dumps([[0, start * 60, end * 60]])

    ids = add_people(service, [
        {"availability": free(9, 12), "time_zone": "America/New_York"},
        {"availability": free(14, 17), "time_zone": "Europe/London"},
        {"availability": free(9, 12), "time_zone": ""},
        {"availability": free(4, 7), "time_zone": "America/New_York"},
    ])
    run_due(sessions(service.engine), service.settings, at("2026-12-01T10:00"))
    assert sorted(map(sorted, drawn_groups(service, 1))) == [[ids[0], ids[1]], [ids[2], ids[3]]]
