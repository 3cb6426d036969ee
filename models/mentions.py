"""Where a person's address (or full name) appears: whole addresses only, never a part of a longer one.

A substring search for al@x.com also finds sal@x.com, and SQL LIKE reads `_` in
j_smith@gov.uk as any character. SQL only narrows the rows (a case-insensitive
substring with LIKE's wildcards escaped); Python then decides on whole addresses and words.
"""
from __future__ import annotations

import re
from typing import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.mail import InboundMessage, OutboundMessage
from models.people import Participant

ERASED = "[erased]"
MIN_NAME = 3
_LOCAL = r"A-Za-z0-9._%+-"  # what usually comes before an address's @; quotes and brackets may stand beside it


def addresses(recipients: str) -> list[str]:
    """The addresses of an outbox row's recipient list (one per line; commas tolerated)."""
    return [a.strip() for a in re.split(r"[\n,]", recipients) if a.strip()]


def addressed_to(recipients: str, email: str) -> bool:
    wanted = email.lower()
    return any(a.lower() == wanted for a in addresses(recipients))


def _pattern(email: str) -> re.Pattern[str]:
    """The address standing alone: no address character before it, none after (a full stop ending
    the sentence is fine; one followed by more of a domain is not). It errs towards finding."""
    return re.compile(rf"(?<![@{_LOCAL}]){re.escape(email)}(?![A-Za-z0-9_@-]|\.[A-Za-z0-9])", re.IGNORECASE)


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def names_address(text: str, email: str) -> bool:
    return bool(email) and _pattern(email).search(text) is not None


def names_person(text: str, email: str, name: str = "") -> bool:
    """The address, or the whole name (when long enough to mean them: "Al" is in too many words)."""
    return names_address(text, email) or (len(name) >= MIN_NAME and _name_pattern(name).search(text) is not None)


def redact(text: str, email: str, name: str = "") -> str:
    text = _pattern(email).sub(ERASED, text) if email else text
    return _name_pattern(name).sub(ERASED, text) if len(name) >= MIN_NAME else text


def may_contain(column: InstrumentedAttribute[str], email: str) -> ColumnElement[bool]:
    """A cheap SQL filter that finds every row naming `email`, and some that only contain it."""
    return func.lower(column).contains(email.lower(), autoescape=True)


def outbox_for(session: Session, person: Participant) -> list[OutboundMessage]:
    """Every outbox row sent to the person: theirs by id, or with their address among the recipients."""
    query = select(OutboundMessage).where(or_(OutboundMessage.participant_id == person.id,
                                              may_contain(OutboundMessage.recipients, person.email)))
    return [row for row in session.scalars(query.order_by(OutboundMessage.created_at, OutboundMessage.id))
            if row.participant_id == person.id or addressed_to(row.recipients, person.email)]


def inbound_from(session: Session, person: Participant) -> list[InboundMessage]:
    """Every message recorded as theirs, or sent from their address (quarantined mail has no participant)."""
    query = select(InboundMessage).where(or_(InboundMessage.participant_id == person.id,
                                             func.lower(InboundMessage.sender) == person.email.lower()))
    return list(session.scalars(query.order_by(InboundMessage.received_at, InboundMessage.id)))


def naming(session: Session, column: InstrumentedAttribute[str], email: str, name: str = "") -> Sequence[object]:
    """Rows of `column`'s table whose text in `column` names the person."""
    needles = [email] + ([name] if len(name) >= MIN_NAME else [])
    found = or_(*(may_contain(column, needle) for needle in needles))
    rows = session.scalars(select(column.class_).where(found))
    return [row for row in rows if names_person(getattr(row, column.key), email, name)]
