"""What the organiser sees of rounds: groups, outcomes, sit-outs, what is due next (read-only)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from models import Participant, Round
from rounds.history import active_by_id, match_outcomes
from rounds.lifecycle import Plan, current_round, last_round, next_open_time


def person_view(p: Participant) -> dict[str, Any]:
    return {"id": p.id, "email": p.email, "name": p.name, "organisation": p.organisation, "status": str(p.status)}


def plan_view(session: Session, drawn: Plan) -> dict[str, Any]:
    people = active_by_id(session, drawn.everyone())
    sitting_out = drawn.grouping.sitting_out
    return {
        "seed": drawn.seed,
        "groups": [[person_view(people[i]) for i in group] for group in drawn.grouping.groups],
        "sitting_out": [] if sitting_out is None else [person_view(people[sitting_out])],
        "skipping": [person_view(people[i]) for i in drawn.skipping],
        "repeats": drawn.grouping.score.met_repeats + drawn.grouping.score.not_met_repeats,
        "same_organisation": drawn.grouping.score.same_org,
    }


def round_view(session: Session, rnd: Round) -> dict[str, Any]:
    outcomes = match_outcomes(session)
    label = {True: "met", False: "not met"}
    groups = []
    for match in rnd.matches:
        members = [person_view(session.get_one(Participant, m.participant_id)) for m in match.members]
        groups.append({"id": match.id, "members": members, "outcome": label.get(outcomes.get(match.id), "no report")})
    return {
        "number": rnd.number, "seed": rnd.seed, "opened_at": _iso(rnd.opened_at), "closes_at": _iso(rnd.closes_at),
        "closed_at": _iso(rnd.closed_at), "groups": groups,
        "sit_outs": [{"participant": person_view(session.get_one(Participant, s.participant_id)), "reason": s.reason}
                     for s in rnd.sit_outs],
    }


def find_round(session: Session, number: int | None) -> Round | None:
    if number is None:
        return session.scalar(select(Round).order_by(Round.number.desc()).limit(1))
    return session.scalar(select(Round).where(Round.number == number))


def next_step(session: Session, settings: Settings) -> dict[str, Any]:
    """The next thing tick will do on its own, and when."""
    rnd = current_round(session)
    candidates: list[tuple[datetime, str]] = []
    if rnd is not None and rnd.nudged_at is None and rnd.nudge_due:
        candidates.append((rnd.nudge_due, f"round {rnd.number}: nudge groups that have not reported"))
    if rnd is not None and rnd.checked_in_at is None and rnd.checkin_due:
        candidates.append((rnd.checkin_due, f"round {rnd.number}: ask groups still silent whether they met"))
    opening = next_open_time(session, settings)
    if opening is not None:
        latest = last_round(session)
        number = (latest.number if latest else 0) + 1
        candidates.append((opening, f"round {number} opens" + (f" and round {rnd.number} closes" if rnd else "")))
    if not candidates:
        return {"at": None, "what": "the first round is scheduled once someone has confirmed"}
    when, what = min(candidates)
    return {"at": _iso(when.astimezone(settings.tz)), "what": what}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="minutes") if value else None
