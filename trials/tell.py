"""Telling people about a trial: one email each when it starts, naming what is compared and their arm."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from mailer.outbox import enqueue
from models import Assignment, Experiment, Participant
from trials.variables import VARIABLES

SHORT = {"cadence": "how often rounds come", "group_size": "the size of groups",
         "options": "times to book in introductions", "starters": "conversation starters"}


def announce(session: Session, settings: Settings, experiment: Experiment, now: datetime) -> int:
    """Queue the one-off email to everyone assigned at the start (once each, whatever reruns)."""
    variable = VARIABLES[experiment.variable]
    session.flush()
    rows = session.execute(select(Participant, Assignment.arm).join(Assignment, Assignment.participant_id == Participant.id)
                           .where(Assignment.experiment_id == experiment.id).order_by(Participant.id)).all()
    for person, arm in rows:
        enqueue(session, settings, template="participant/trial_started", to=person, now=now,
                context={"what": variable.what, "what_short": SHORT[variable.key],
                         "arm_label": variable.arms.get(arm, arm)},
                dedupe_key=f"trial:{experiment.id}:{person.id}")
    return len(rows)
