"""Erasing a person: FORGET, and the retention purge of people who never confirmed.

Afterwards nothing names them: not a record of mail they sent (even one quarantined
before we knew who sent it), not the mail we sent them, not an error text, a reason or an
audit detail holding their address, not the organiser's bounce notice about them nor a
digest whose report carried what they shared. What the statistics need stays, anonymous:
their groups, whether those met, the reason group, the audit trail's status changes, and (without
them) their arm in a trial, so the arm's size stays true while they leave its analysis.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.mail import InboundMessage, OutboundMessage, OutStatus
from models.mentions import inbound_from, naming, outbox_for, redact
from models.people import Participant, Status, Token
from models.rounds import Outcome, Share
from models.trials import Assignment

CANCELLED = "not sent: a recipient asked to be forgotten"


def forget(session: Session, person: Participant, spare: Sequence[OutboundMessage] = ()) -> None:
    """Erase `person`, keeping the row as an anonymous member; `spare` (the goodbye, and the calendar
    cancellation of a meeting they were booked into) is scrubbed once sent."""
    erase_traces(session, person, spare)
    for field in ("name", "call_me", "organisation", "role", "phone", "video", "links", "bio",
                  "available", "availability", "meet_mode", "place", "time_zone"):
        setattr(person, field, "")
    person.email = f"forgotten-{person.id}@invalid"
    person.status, person.paused_until, person.skip_next = Status.LEFT, None, False
    person.bounce_score, person.last_bounce_at = 0, None


def remove(session: Session, person: Participant) -> None:
    """Erase someone who never confirmed, row and all: they never took part, so no statistic counts them."""
    erase_traces(session, person)
    session.execute(delete(AuditEvent).where(AuditEvent.participant_id == person.id))
    session.delete(person)


def erase_traces(session: Session, person: Participant, spare: Sequence[OutboundMessage] = ()) -> None:
    session.flush()
    _organiser_mail(session, person)
    _texts(session, person.email, person.name.strip())
    _inbound(session, person)
    _outbox(session, person, {row.id for row in spare})
    session.execute(update(Outcome).where(Outcome.participant_id == person.id).values(reason=""))
    session.execute(delete(Share).where(Share.participant_id == person.id))
    session.execute(delete(Token).where(Token.participant_id == person.id))
    session.execute(update(Assignment).where(Assignment.participant_id == person.id).values(participant_id=None))


def _texts(session: Session, email: str, name: str) -> None:
    """Error texts, reasons, audit details and others' subjects ("Re: meet Sam Jones and Kim Lee") lose the
    address and name; the rest of the text stays."""
    for column in (OutboundMessage.last_error, InboundMessage.reason, AuditEvent.detail, InboundMessage.subject):
        for row in naming(session, column, email, name):
            setattr(row, column.key, redact(getattr(row, column.key), email, name))


def _inbound(session: Session, person: Participant) -> None:
    for record in inbound_from(session, person):
        record.sender, record.subject = "", ""


def _outbox(session: Session, person: Participant, spare: set[int]) -> None:
    """Their emails, and the other members' copies of their group emails (which name them)."""
    mine = outbox_for(session, person)
    copies = session.scalars(select(OutboundMessage).where(
        OutboundMessage.message_id.in_({row.message_id for row in mine}))) if mine else []
    for row in {row.id: row for row in [*mine, *copies]}.values():
        if row.id in spare:
            continue
        if row.status in (OutStatus.QUEUED, OutStatus.SENDING):
            row.status, row.last_error = OutStatus.FAILED, CANCELLED
        row.raw, row.recipients, row.rate_key, row.subject = b"", "", "", ""
        row.accepted, row.rejected = "", ""


def _organiser_mail(session: Session, person: Participant) -> None:
    """The bounce notices about them, and the digests built since their first share (the report quotes shares).
    A digest still queued is dropped, so the next run builds it again without them."""
    notices = select(OutboundMessage).where(OutboundMessage.kind == "bounce_notice",
                                            OutboundMessage.dedupe_key.startswith(f"bounce_notice:{person.id}:"))
    for row in session.scalars(notices):
        if row.status == OutStatus.QUEUED:
            row.status, row.last_error = OutStatus.FAILED, CANCELLED
        row.raw, row.subject = b"", ""
    first_share: datetime | None = session.scalar(select(func.min(Share.shared_at))
                                                  .where(Share.participant_id == person.id))
    if first_share is None:
        return
    digests = select(OutboundMessage).where(OutboundMessage.kind == "digest", OutboundMessage.created_at >= first_share)
    for row in session.scalars(digests):
        if row.status == OutStatus.QUEUED:
            session.delete(row)
        else:
            row.raw = b""
