"""Fresh options for a group whose booked time fell through (a decline, or RESCHEDULE).

A deliberately simple stand-in for the slot finder (`meetings/slots.py`): the next working
days at the start of the service's working day, in the service's time zone, inside the round,
never the time that was just turned down. Its signature is the one the slot finder keeps, so
the two can be swapped.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy.orm import Session

from config import Settings
from models import Match, Round

LOOK_AHEAD_DAYS = 31


def fresh_options(session: Session, settings: Settings, match: Match, now: datetime) -> list[datetime]:
    """Up to `meetings.options` UTC starts from tomorrow on, before the round closes."""
    rnd = session.get_one(Round, match.round_id)
    wanted, found = settings.meetings.options, []
    day = now.astimezone(settings.tz).date()
    for _ in range(LOOK_AHEAD_DAYS):
        day += timedelta(days=1)
        start = datetime.combine(day, time(settings.meetings.day_start), settings.tz).astimezone(timezone.utc)
        if rnd.closes_at is not None and start >= rnd.closes_at:
            break
        if settings.calendar.is_working(day) and start != match.booked_start:
            found.append(start)
        if len(found) == wanted:
            break
    return found
