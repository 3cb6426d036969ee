"""Counts for `status` and the demo: participants by status, outbox, quarantine."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from models.db import reading
from models.mail import Disposition, InboundMessage, OutboundMessage, OutStatus
from models.people import Participant


def collect_status(engine: Engine) -> dict[str, Any]:
    with reading(engine)() as session:
        by_status = dict(session.execute(select(Participant.status, func.count()).group_by(Participant.status)).all())
        outbox = dict(session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())
        quarantined = session.scalar(select(func.count()).where(InboundMessage.disposition == Disposition.QUARANTINED))
    return {
        "participants": {str(k): v for k, v in by_status.items()},
        "outbox_queued": outbox.get(OutStatus.QUEUED, 0),
        "outbox_failed": outbox.get(OutStatus.FAILED, 0),
        "outbox_sent": outbox.get(OutStatus.SENT, 0),
        "quarantined": quarantined or 0,
    }
