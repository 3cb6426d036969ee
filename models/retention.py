"""Forget old message contents while keeping what deduplication, threading and the statistics need.

Inbound mail bodies are never stored. After `service.retention_days`, an inbound
record loses its sender, subject and the reason we gave for what we did (a quarantine
reason, a bounce report's addresses); a sent or failed email loses its stored bytes,
recipients (and who took or refused it), subject and error text; a NOT MET report loses its reason (its reason group
stays); shares are deleted, and so are confirmation requests that expired that long ago
(except those of people still pending, which `purge_unconfirmed` reads).
Message-IDs, actions, dates and participant links stay: they are what recognises a
duplicate, threads a reminder, and counts a round.

Someone who asked to join and never confirmed is erased (models.erasure.remove) once
`service.unconfirmed_days` have passed since they last asked.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from models.erasure import remove
from models.mail import InboundMessage, OutboundMessage, OutStatus
from models.people import Participant, Status, Token
from models.rounds import Outcome, Share


def purge(session: Session, now: datetime, days: int, unconfirmed_days: int = 0) -> int:
    """How many rows lost something (people erased count one each). `days` <= 0 keeps contents."""
    purged = purge_contents(session, now - timedelta(days=days)) if days > 0 else 0
    return purged + (purge_unconfirmed(session, now - timedelta(days=unconfirmed_days)) if unconfirmed_days > 0 else 0)


def purge_contents(session: Session, cutoff: datetime) -> int:
    inbound, outbox = InboundMessage, OutboundMessage
    pending = select(Participant.id).where(Participant.status == Status.PENDING)  # their requests date their last JOIN
    changes = [
        update(inbound).where(inbound.received_at < cutoff,
                              or_(inbound.sender != "", inbound.subject != "", inbound.reason != ""))
        .values(sender="", subject="", reason=""),
        update(outbox).where(outbox.created_at < cutoff, outbox.status.in_([OutStatus.SENT, OutStatus.FAILED]),
                             or_(outbox.recipients != "", outbox.subject != "", outbox.last_error != ""))
        .values(raw=b"", recipients="", rate_key="", subject="", last_error="", accepted="", rejected=""),
        update(Outcome).where(Outcome.reported_at < cutoff, Outcome.reason != "").values(reason=""),
        delete(Share).where(Share.shared_at < cutoff),
        delete(Token).where(Token.expires_at < cutoff, Token.participant_id.not_in(pending)),
    ]
    return sum(session.execute(change, execution_options={"synchronize_session": False}).rowcount or 0
               for change in changes)


def purge_unconfirmed(session: Session, cutoff: datetime) -> int:
    """People still pending, never confirmed, who last asked (joined, or asked again) before `cutoff`."""
    asked_since = exists().where(Token.participant_id == Participant.id, Token.created_at >= cutoff)
    stale = select(Participant).where(Participant.status == Status.PENDING, Participant.confirmed_at.is_(None),
                                      Participant.created_at < cutoff, ~asked_since)
    people = list(session.scalars(stale))
    for person in people:
        remove(session, person)
    return len(people)
