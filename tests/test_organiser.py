"""The organiser's commands, as they would type them (both databases)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from models import AuditEvent, Match, OutboundMessage, Outcome, OutStatus, Participant, Round, Status
from tests.app import Service


def add_people(service: Service, n: int) -> None:
    with service.session() as s, s.begin():
        s.add_all(Participant(email=f"r{i}@org{i % 3}.example", name=f"R{i}", organisation=f"Org {i % 3}",
                              status=Status.ACTIVE, reply_token=f"tr{i:04d}") for i in range(n))


def test_preview_saves_nothing_and_open_then_show(service: Service) -> None:
    add_people(service, 5)
    preview = json.loads(service.cli("round", "preview", "--seed", "7", "--json").output)
    assert len(preview["groups"]) == 2 and preview["seed"] == 7 and preview["repeats"] == 0
    assert sum(len(g) for g in preview["groups"]) == 5
    again = json.loads(service.cli("round", "preview", "--seed", "7", "--json").output)
    assert again == preview, "same seed, same draw"
    with service.session() as s:
        assert s.scalar(select(Round)) is None

    opened = service.cli("round", "open", "--seed", "7")
    assert "round 1 opened: 2 groups, seed 7" in opened.output
    shown = json.loads(service.cli("round", "show", "--json").output)
    assert [[p["email"] for p in g["members"]] for g in shown["groups"]] == \
        [[p["email"] for p in g] for g in preview["groups"]]
    assert {g["outcome"] for g in shown["groups"]} == {"no report"}
    assert "no report" in service.cli("round", "show", "1").output

    assert "round 1 closed" in service.cli("round", "close").output
    closed = service.cli("round", "close")
    assert closed.exit_code == 1 and "no round is running" in closed.output


def test_top_up_introduces_late_joiners_in_the_running_round(service: Service) -> None:
    add_people(service, 4)
    service.cli("round", "open")
    with service.session() as s, s.begin():
        s.add_all(Participant(email=f"late{i}@x{i}.example", status=Status.ACTIVE, reply_token=f"tl{i}")
                  for i in range(2))
    assert "1 more group introduced" in service.cli("round", "top-up").output
    assert len(json.loads(service.cli("round", "show", "--json").output)["groups"]) == 3
    nothing = service.cli("round", "top-up")
    assert nothing.exit_code == 1 and "0 people waiting" in nothing.output


def test_participants_pause_resume_remove_are_audited(service: Service) -> None:
    add_people(service, 2)
    assert "r0@org0.example is now paused" in service.cli("participants", "pause", "R0@org0.example").output
    twice = service.cli("participants", "pause", "r0@org0.example")
    assert twice.exit_code == 1 and "is paused; cannot pause" in twice.output
    assert "is now active" in service.cli("participants", "resume", "r0@org0.example").output
    assert "is now left" in service.cli("participants", "remove", "r1@org1.example").output
    listed = json.loads(service.cli("participants", "list", "--json").output)
    assert {p["email"]: p["status"] for p in listed} == {"r0@org0.example": "active", "r1@org1.example": "left"}
    assert "Org 0" in service.cli("participants", "show", "r0@org0.example").output
    missing = service.cli("participants", "show", "nobody@x.org")
    assert missing.exit_code == 1 and "participants list" in missing.output
    with service.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["organiser-pause", "organiser-resume", "organiser-remove"]


def test_status_says_what_happens_next(service: Service) -> None:
    assert "first round is scheduled once someone has confirmed" in service.cli("status").output
    add_people(service, 2)
    service.cli("round", "open")
    status = json.loads(service.cli("status", "--json").output)
    assert "nudge" in status["next"]["what"] and status["next"]["at"]
    assert status["outbox_queued"] == 2, "the introduction: a copy for each member"


def test_looking_does_not_wait_for_a_long_write(service: Service, tmp_path: Path) -> None:
    """While tick holds the write lock (opening a big round takes minutes), the organiser still
    gets answers, showing what was last committed; on SQLite a reader used to queue for 30 s."""
    add_people(service, 4)
    with service.session() as writer, writer.begin():
        writer.add(Participant(email="pending@x.example", status=Status.ACTIVE, reply_token="tw1"))
        writer.flush()
        started = time.monotonic()
        listed = json.loads(service.cli("participants", "list", "--json").output)
        assert len(listed) == 4, "the writer's uncommitted row is not shown"
        assert "participants: 4 active" in service.cli("status").output
        assert len(json.loads(service.cli("round", "preview", "--json").output)["groups"]) == 2
        assert service.cli("report", "--out", str(tmp_path / "report")).exit_code == 0
        assert time.monotonic() - started < 20


def test_status_lists_an_email_that_failed_with_the_servers_words(service: Service) -> None:
    with service.session() as s, s.begin():
        s.add(OutboundMessage(message_id="<f.1@example.org>", kind="intro", mail_from="coffee@example.org",
                              recipients="gone@x.example", subject="Your coffee match", raw=b"x",
                              status=OutStatus.FAILED, last_error="550 5.1.1 no such user"))
    out = service.cli("status").output
    assert "outbox: 0 waiting, 1 failed" in out
    assert 'to gone@x.example, "Your coffee match": 550 5.1.1 no such user' in out and "check each address" in out


def test_status_after_a_manual_close_numbers_the_next_round_from_the_last(service: Service) -> None:
    add_people(service, 2)
    service.cli("round", "open")
    service.cli("round", "close")
    assert "next: round 2 opens" in service.cli("status").output


def test_participants_show_holds_groups_outcomes_dates_and_bounces(service: Service) -> None:
    add_people(service, 2)
    service.cli("round", "open", "--seed", "3")
    with service.session() as s, s.begin():
        [match] = s.scalars(select(Match)).all()
        s.add(Outcome(match_id=match.id, participant_id=match.members[0].participant_id, met=False,
                      reason="she was on leave", reported_at=datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)))
        person = s.scalars(select(Participant).where(Participant.email == "r0@org0.example")).one()
        person.bounce_score, person.confirmed_at = 2, datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
    service.cli("participants", "pause", "r0@org0.example")

    shown = json.loads(service.cli("participants", "show", "r0@org0.example", "--json").output)
    assert shown["bounces"] == 2 and shown["confirmed"] == "2026-11-02T10:00+00:00"
    [group] = shown["groups"]
    assert group["round"] == 1 and [p["email"] for p in group["with"]] == ["r1@org1.example"]
    assert group["outcome"] == "not met" and group["reason"] == "she was on leave"
    assert [h["action"] for h in shown["history"]] == ["organiser-pause"]
    text = service.cli("participants", "show", "r0@org0.example").output
    assert "bounces: 2" in text and "confirmed: 2026-11-02T10:00+00:00" in text
    assert "round 1 (" in text and "with R1, Org 1 <r1@org1.example>: not met, reported 2026-11-25T10:00+00:00: " \
        "she was on leave" in text
    assert "organiser-pause (active -> paused) by organiser" in text


def test_printed_counts_read_right_with_0_1_and_2(service: Service) -> None:
    said = []
    for people in (0, 2, 2):
        add_people_from(service, len(said) * 2, people)
        said.append(service.cli("round", "preview", "--seed", "1").output.splitlines()[0])
    assert [line.split(" (")[0] for line in said] == ["0 groups", "1 group", "2 groups"]
    assert "(seed 1, 0 repeated pairs, 0 same-organisation pairs)" in said[0]
    assert "round 1 opened: 2 groups" in service.cli("round", "open", "--seed", "1").output
    with service.session() as s, s.begin():
        s.add_all(Participant(email=f"late{i}@x{i}.example", status=Status.ACTIVE, reply_token=f"tl{i}")
                  for i in range(2))
    assert "1 more group introduced" in service.cli("round", "top-up").output


def add_people_from(service: Service, start: int, n: int) -> None:
    with service.session() as s, s.begin():
        s.add_all(Participant(email=f"c{i}@org{i % 3}.example", name=f"C{i}", organisation=f"Org {i % 3}",
                              status=Status.ACTIVE, reply_token=f"tc{i:04d}") for i in range(start, start + n))
