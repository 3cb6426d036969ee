"""Counts for `status` and the demo: participants by status, outbox, quarantine, and the latest
messages we could not handle or deliver, with the reason (what the organiser acts on)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models.db import reading
from models.mail import Disposition, InboundMessage, OutboundMessage, OutStatus
from models.people import Participant


HELD_BACK = "held-back"  # inbound.apply's action for a message the hourly cap on answers to strangers held back


def collect_status(engine: Engine, now: datetime | None = None) -> dict[str, Any]:
    with reading(engine)() as session:
        return status_figures(session, now)


def status_figures(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """The figures of `status`, read in the caller's session (the organiser's STATUS email reads them mid-run)."""
    by_status = dict(session.execute(select(Participant.status, func.count()).group_by(Participant.status)).all())
    outbox = dict(session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())
    quarantined = session.scalar(select(func.count()).where(InboundMessage.disposition == Disposition.QUARANTINED))
    latest = latest_problems(session)
    strangers = stranger_answers(session, now) if now else {}
    capped = capped_answers(session)
    return {
        "participants": {str(k): v for k, v in by_status.items()},
        "outbox_queued": outbox.get(OutStatus.QUEUED, 0),
        "outbox_failed": outbox.get(OutStatus.FAILED, 0),
        "outbox_sent": outbox.get(OutStatus.SENT, 0),
        "quarantined": quarantined or 0,
        **latest,
        **strangers,
        **capped,
    }


def stranger_answers(session: Session, now: datetime) -> dict[str, Any]:
    """Answers to people not taking part in the last hour, and the messages the hourly cap held back
    (they wait in quarantine; one retried and answered no longer counts)."""
    held = select(func.count(), func.max(InboundMessage.received_at)).where(InboundMessage.action == HELD_BACK)
    count, latest = session.execute(held).one()
    sent = select(func.count()).where(OutboundMessage.stranger.is_(True),
                                      OutboundMessage.created_at > now - timedelta(hours=1))
    return {"stranger_answers_last_hour": session.scalar(sent) or 0, "held_back": count or 0,
            "held_back_latest": stamp(latest) if latest else None}


def stamp(at: datetime) -> str:
    """Stored times are UTC without a zone; shown with one, like the rest of status."""
    return at.replace(tzinfo=timezone.utc).isoformat(timespec="minutes")


def quarantined(id_: int, at: datetime, sender: str, subject: str, reason: str) -> dict[str, Any]:
    return {"id": id_, "at": stamp(at), "from": sender, "subject": subject, "reason": reason}


_HELD = (select(InboundMessage.id, InboundMessage.received_at, InboundMessage.sender, InboundMessage.subject,
                InboundMessage.reason).where(InboundMessage.disposition == Disposition.QUARANTINED))


def all_quarantined(session: Session) -> list[dict[str, Any]]:
    return [quarantined(*row) for row in session.execute(_HELD.order_by(InboundMessage.id))]


def latest_problems(session: Session, limit: int = 5) -> dict[str, list[dict[str, Any]]]:
    held = session.execute(_HELD.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(limit))
    failed = session.execute(
        select(OutboundMessage.next_try_at, OutboundMessage.recipients, OutboundMessage.subject,
               OutboundMessage.last_error, Participant.status)
        .outerjoin(Participant, Participant.id == OutboundMessage.participant_id)
        .where(OutboundMessage.status == OutStatus.FAILED)
        .order_by(OutboundMessage.next_try_at.desc(), OutboundMessage.id.desc()).limit(limit))
    return {
        "quarantine_latest": [quarantined(*row) for row in held],
        "failed_latest": [{"last_tried": stamp(at), "to": to.replace("\n", ", "), "subject": subject,
                           "reason": error, "status": str(status) if status else None}
                          for at, to, subject, error, status in failed],
    }


def capped_answers(session: Session, limit: int = 3) -> dict[str, Any]:
    """Mail that passed every robot check but whose answer only the daily cap held back: a person
    rarely writes that often, so these show the robots we do not recognise yet."""
    count = session.scalar(select(func.count()).where(InboundMessage.capped.is_(True)))
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.received_at, InboundMessage.sender, InboundMessage.subject,
               InboundMessage.reason).where(InboundMessage.capped.is_(True))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(limit))
    return {"capped": count or 0, "capped_latest": [quarantined(*row) for row in rows]}
