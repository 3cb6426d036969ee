"""The first instant at which a tick could have work that no new mail, command or setting brings.

Every round step (rounds/lifecycle.STEPS) is due at a time stored or worked out from what is
stored: the nudge, the check-in, each booked group's "did you meet?", the next opening. The
outbox waits for each message's next try. Anything else a tick does by the clock (the retention
purge, unconfirmed sign-ups, a new year's holidays) is done at the latest at the next local
midnight, which is as late as this ever answers.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from models import Match, OutboundMessage, OutStatus
from rounds.lifecycle import booked_checkin_due, current_round, next_open_time


def next_due(session: Session, settings: Settings, now: datetime) -> datetime:
    """At or before the first time `run_due`, the digest or the outbox would act, if nothing else changes.
    A time at or before `now` means: something is due already (a step that failed, a message to retry)."""
    times = [next_midnight(settings, now), *_round_times(session, settings, now)]
    opening = next_open_time(session, settings)
    if opening is not None:
        times.append(opening)
    retry = session.scalar(select(func.min(OutboundMessage.next_try_at)).where(
        OutboundMessage.status.in_([OutStatus.QUEUED, OutStatus.SENDING])))
    if retry is not None:
        times.append(retry)
    return min(times)


def _round_times(session: Session, settings: Settings, now: datetime) -> list[datetime]:
    rnd = current_round(session)
    if rnd is None:
        return []
    times = [due for due, done in ((rnd.nudge_due, rnd.nudged_at), (rnd.checkin_due, rnd.checked_in_at))
             if due is not None and done is None]
    booked = session.scalars(select(Match).where(Match.round_id == rnd.id, Match.booked_start.is_not(None)))
    for match in booked:
        due = booked_checkin_due(settings, match)
        if due is not None and due > now:
            times.append(due)
    return times


def next_midnight(settings: Settings, now: datetime) -> datetime:
    local = now.astimezone(settings.tz)
    return datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=settings.tz)
