"""Everything we hold about one participant, and their history: what `participants show` prints (read-only)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Match, MatchMember, Participant, Round, SitOut
from rounds.views import person_view

FIELDS = ("email", "name", "organisation", "role", "phone", "video", "links", "bio", "status", "campaign")


def participant_record(session: Session, person: Participant) -> dict[str, Any]:
    """The profile, the dates and bounce count, each group with its outcome, sit-outs and status changes."""
    return {
        **{f: str(getattr(person, f)) for f in FIELDS},
        "joined": _iso(person.created_at), "confirmed": _iso(person.confirmed_at),
        "updated": _iso(person.updated_at), "paused_until": _iso(person.paused_until),
        "skips_next_round": person.skip_next,
        "bounces": person.bounce_score, "last_bounce": _iso(person.last_bounce_at),
        "groups": groups_of(session, person), "sat_out": sit_outs_of(session, person),
        "history": changes_of(session, person),
    }


def groups_of(session: Session, person: Participant) -> list[dict[str, Any]]:
    query = (select(Match).join(MatchMember).where(MatchMember.participant_id == person.id)
             .join(Round, Round.id == Match.round_id).order_by(Round.number, Match.id))
    return [_group(session, match, person) for match in session.scalars(query)]


def _group(session: Session, match: Match, person: Participant) -> dict[str, Any]:
    others = [session.get_one(Participant, m.participant_id) for m in match.members if m.participant_id != person.id]
    reports = sorted(match.outcomes, key=lambda o: (o.reported_at, o.id))
    latest = reports[-1] if reports else None
    return {
        "round": match.round.number, "introduced": _iso(match.created_at),
        "with": [person_view(p) for p in others],
        "outcome": "no report" if latest is None else "met" if latest.met else "not met",
        "reported": _iso(latest.reported_at) if latest else None,
        "reason": latest.reason if latest else "",
    }


def sit_outs_of(session: Session, person: Participant) -> list[dict[str, Any]]:
    query = (select(SitOut.reason, Round.number).join(Round, Round.id == SitOut.round_id)
             .where(SitOut.participant_id == person.id).order_by(Round.number))
    return [{"round": number, "reason": reason} for reason, number in session.execute(query)]


def changes_of(session: Session, person: Participant) -> list[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.participant_id == person.id).order_by(AuditEvent.at, AuditEvent.id)
    return [{"at": _iso(e.at), "action": e.action, "from": e.old_status, "to": e.new_status, "by": e.source,
             "detail": e.detail} for e in session.scalars(query)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="minutes") if value else None
