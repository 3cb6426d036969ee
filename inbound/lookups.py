"""What every message of a batch looks up, asked of the database once per batch.

Each message needs to know whether it was handled before (by its dedupe key), who sent
it (their participant) and how many answers went to them lately (mailer.answer_counts).
Asked message by message, that is up to four round trips each, much of the poller's time on
PostgreSQL (docs/benchmarks.md). So the poller loads all three for the whole batch into its
session (`load`), and each change a message makes is kept in step: a record
written (`recorded`), a participant created (`joined`: signup is the one place that creates
them). A participant who changed address (FORGET) or was deleted is noticed when loaded.
After a message fails, or a write collides, everything is asked of the database again
(`forget`). Without `load` (a session of any other caller) every question goes to the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from inbound.parse import Parsed
from mailer import answer_counts
from mailer.outbox import rate_key
from models import InboundMessage, Participant
from models.rows import first, scalar

_LOOKUPS = "inbound.lookups"
_HANDLED = select(InboundMessage.message_id, InboundMessage.disposition, InboundMessage.action).where(
    InboundMessage.message_id.in_(bindparam("keys", expanding=True)))
_PEOPLE = select(Participant.email, Participant.id).where(Participant.email.in_(bindparam("emails", expanding=True)))
_ONE_HANDLED = select(InboundMessage.disposition, InboundMessage.action).where(InboundMessage.message_id == bindparam("key"))
_ONE_PERSON = select(Participant.id).where(Participant.email == bindparam("email"))


@dataclass
class _Lookups:
    handled: dict[str, tuple[str, str] | None]  # dedupe key -> (disposition, action), None if never seen
    people: dict[str, int | None]  # sender address -> participant id, None if none


def load(session: Session, mails: list[Parsed], now: datetime) -> None:
    """Also the answer limits' counts for the batch's senders as of `now` (mailer.answer_counts)."""
    keys, emails = list({m.key for m in mails}), list({m.sender for m in mails if m.sender})
    handled = {key: (disposition, action) for key, disposition, action in
               session.execute(_HANDLED, {"keys": keys})} if keys else {}
    people = {email: person_id for email, person_id in session.execute(_PEOPLE, {"emails": emails})} if emails else {}
    session.info[_LOOKUPS] = _Lookups({key: handled.get(key) for key in keys}, {e: people.get(e) for e in emails})
    answer_counts.load(session, [rate_key(email) for email in emails], now)


def forget(session: Session) -> None:
    session.info.pop(_LOOKUPS, None)
    answer_counts.forget(session)


def handled(session: Session, key: str) -> tuple[str, str] | None:
    """(disposition, action) of the message recorded under this dedupe key, if there is one."""
    lookups: _Lookups | None = session.info.get(_LOOKUPS)
    if lookups is not None and key in lookups.handled:
        return lookups.handled[key]
    return first(session, _ONE_HANDLED, key=key)


def recorded(session: Session, key: str, disposition: str, action: str) -> None:
    lookups: _Lookups | None = session.info.get(_LOOKUPS)
    if lookups is not None:
        lookups.handled[key] = (disposition, action)


def sender(session: Session, email: str) -> Participant | None:
    """The participant with this address (as this transaction left it)."""
    lookups: _Lookups | None = session.info.get(_LOOKUPS)
    if lookups is not None and email in lookups.people:
        person_id = lookups.people[email]
    else:
        person_id = scalar(session, _ONE_PERSON, email=email)
    person = session.get(Participant, person_id) if person_id is not None else None
    return person if still_theirs(session, person, email) else None


def still_theirs(session: Session, person: Participant | None, email: str) -> bool:
    """Whether `person` still has this address in this transaction (not forgotten, not deleted)."""
    return person is not None and person.email == email and person not in session.deleted


def joined(session: Session, person: Participant) -> None:
    lookups: _Lookups | None = session.info.get(_LOOKUPS)
    if lookups is not None:
        lookups.people[person.email] = person.id
