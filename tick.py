"""The cron entry point's work: poll the inbox, then send what is due. Later: round steps."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import Engine

from config import Settings
from inbound.poller import PollReport, poll
from mailer.send import SendReport, deliver_due
from models import utcnow
from models.db import sessions
from runlock import exclusive


@dataclass
class TickReport:
    poll: PollReport
    send: SendReport


def tick(engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow) -> TickReport:
    """Raises runlock.Busy when another run is working."""
    Session_ = sessions(engine)
    with exclusive(settings.data_path, engine):
        polled = poll(Session_, settings, now=now)
        sent = deliver_due(Session_, settings.smtp, now=now)
    return TickReport(poll=polled, send=sent)
