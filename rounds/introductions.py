"""Introduce a round's groups: their match rows and the introduction each member gets, in bulk.

A round of 10,000 groups is 10,000 matches, 20,000 members and 20,000 outbox rows. Written as
ORM objects with a flush per group, the database work cost twice the emails themselves; here
they go in a few executemany INSERTs per chunk of groups, in the caller's transaction (so a
round is still opened whole or not at all), and the emails are built exactly as
`mailer.outbox.enqueue_group` builds them (`group_copies`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import insert
from sqlalchemy.orm import Session

from config import Settings
from inbound.tokens import new_token
from mailer.compose import new_message_id
from mailer.outbox import group_copies, queue_rows
from models import Match, MatchMember, Participant, Round

CHUNK = 500
"""Groups written per round trip: bounds the memory a round's composed emails take (about 5 kB each)."""

INTRO = "group/intro"
MATCHES, MEMBERS = Match.__table__, MatchMember.__table__


def introduce_all(session: Session, settings: Settings, rnd: Round, groups: Sequence[Sequence[Participant]],
                  trio_extra: int | None, now: datetime) -> None:
    """Each group's match, its members and one introduction per member, in `rnd` (already flushed).
    `trio_extra`: the person whose turn it was to make a trio (recorded on a group of three)."""
    for start in range(0, len(groups), CHUNK):
        _introduce_chunk(session, settings, rnd, groups[start:start + CHUNK], trio_extra, now)
    session.expire(rnd, ["matches"])


def _introduce_chunk(session: Session, settings: Settings, rnd: Round, groups: Sequence[Sequence[Participant]],
                     trio_extra: int | None, now: datetime) -> None:
    tokens = [new_token() for _ in groups]
    message_ids = [new_message_id(INTRO.rpartition("/")[2], token, settings.service.domain) for token in tokens]
    match_ids = session.scalars(insert(MATCHES).returning(MATCHES.c.id, sort_by_parameter_order=True), [
        {"round_id": rnd.id, "token": token, "created_at": now, "intro_message_id": message_id,
         "odd_one_id": trio_extra if len(members) == 3 else None}
        for token, message_id, members in zip(tokens, message_ids, groups)]).all()
    session.execute(insert(MEMBERS), [{"match_id": match_id, "participant_id": p.id}
                                      for match_id, members in zip(match_ids, groups) for p in members])
    queue_rows(session, [row for match_id, token, message_id, members in zip(match_ids, tokens, message_ids, groups)
                         for row in group_copies(settings, template=INTRO, members=members, token=token, now=now,
                                                 context=group_context(settings, rnd, members),
                                                 message_id=message_id, dedupe_key=f"intro:{match_id}")])


def group_context(settings: Settings, rnd: Round, members: Sequence[Participant]) -> dict[str, Any]:
    deadline = (rnd.closes_at or rnd.opened_at).astimezone(settings.tz).strftime("%A %-d %B")
    names = _joined([p.name or p.email.split("@")[0] for p in members])
    greet = _joined([p.greeting_name or p.email.split("@")[0] for p in members])
    return {"members": members, "names": names, "greet": greet, "deadline": deadline, "round_no": rnd.number}


def _joined(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
