"""Fresh options for a group whose booked time fell through (a decline, or RESCHEDULE).

The same slot finder as the introduction's (`meetings/slots.py`: everyone's availability and time
zone, working days, the host's day first), from now until the round closes, never the time that was
just turned down. Nothing is stored here: the caller decides whether the options are new.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from config import Settings
from meetings.offer import times_for
from models import Match, Participant, Round


def fresh_options(session: Session, settings: Settings, match: Match, now: datetime) -> list[datetime]:
    """Up to `meetings.options` UTC starts from now on, before the round closes."""
    rnd = session.get_one(Round, match.round_id)
    if rnd.closes_at is None or rnd.closes_at <= now:
        return []
    members = [session.get_one(Participant, m.participant_id) for m in match.members]
    starts = times_for(settings, members, match.host_id, rnd.closes_at, now)
    turned_down = match.booked_start
    return [s.astimezone(timezone.utc) for s in starts if s != turned_down]
