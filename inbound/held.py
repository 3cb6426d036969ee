"""Everything we hold about one person, as MYDATA sends it (a subject access request under UK GDPR).

Each list here reads one table the person appears in; a new column or table about people
belongs here too, or MYDATA stops being complete.
"""
from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbound.profile import profile_lines
from models import Assignment, AuditEvent, Experiment, Match, MatchMember, Outcome, Participant, Round, Share, SitOut, Token
from models.mentions import inbound_from, outbox_for
from rounds.history import match_outcomes
from wording import plural

Show = Callable[[datetime | None], str]
SAT_OUT = {"skip": "you asked to skip it", "odd": "an odd number of people"}


def held_about(session: Session, person: Participant, tz: tzinfo, answering: int | None = None) -> dict[str, object]:
    """`answering`: the MYDATA request's own record, left out (it has no outcome yet)."""
    day = _formatter(tz, "%-d %B %Y")
    return {
        "profile": profile_lines(person, getattr(tz, "key", "")), "status": str(person.status), "email": person.email,
        "joined": day(person.created_at), "confirmed": day(person.confirmed_at), "campaign": person.campaign,
        "state": state_lines(person, day) + trial_lines(session, person), "history": introductions(session, person),
        "reports": reports(session, person, day), "sat_out": sat_out(session, person),
        "shares": [f"{day(s.shared_at)}: {s.text}" for s in
                   session.scalars(select(Share).where(Share.participant_id == person.id).order_by(Share.shared_at))],
        "pending": pending(session, person, day), "audit": audit_trail(session, person, _formatter(tz)),
        "received": received(session, person, _formatter(tz), answering), "sent": sent(session, person, _formatter(tz)),
    }


def _formatter(tz: tzinfo, form: str = "%-d %b %Y %H:%M") -> Show:
    def show(when: datetime | None) -> str:
        return when.astimezone(tz).strftime(form) if when else ""
    return show


def state_lines(person: Participant, day: Show) -> list[str]:
    lines = []
    if person.paused_until:
        lines.append(f"Paused until {day(person.paused_until)}")
    if person.skip_next:
        lines.append("Sitting out the next round (SKIP)")
    if person.bounce_score:
        lines.append(f"Email to you bounced on {plural(person.bounce_score, 'day')}, "
                     f"the last on {day(person.last_bounce_at)}")
    elif person.last_bounce_at:
        lines.append(f"Email to you last bounced on {day(person.last_bounce_at)}; mail from you since then cleared it")
    return lines


def trial_lines(session: Session, person: Participant) -> list[str]:
    from trials.variables import VARIABLES

    rows = session.execute(select(Experiment.name, Experiment.variable, Assignment.arm, Assignment.left_at)
                           .join(Assignment, Assignment.experiment_id == Experiment.id)
                           .where(Assignment.participant_id == person.id).order_by(Experiment.id)).all()
    lines = [f"In the trial {name!r} ({VARIABLES[variable].what}): {VARIABLES[variable].arms.get(arm, arm).lower()}"
             + (" until you replied NO TRIALS" if left else "") for name, variable, arm, left in rows]
    return lines + (["You asked to stay out of trials (NO TRIALS)"] if person.no_trials else [])


def introductions(session: Session, person: Participant) -> list[str]:
    outcomes, history = match_outcomes(session), []
    query = select(Match, Round.number).join(MatchMember).join(Round).where(MatchMember.participant_id == person.id)
    for match, number in session.execute(query.order_by(Round.number)):
        others = [session.get_one(Participant, m.participant_id)
                  for m in match.members if m.participant_id != person.id]
        result = {True: "met", False: "did not meet"}.get(outcomes.get(match.id), "no report")
        history.append(f"Round {number}: {' and '.join(o.name or o.email for o in others)} ({result})")
    return history


def reports(session: Session, person: Participant, day: Show) -> list[str]:
    query = (select(Outcome, Round.number).join(Match, Match.id == Outcome.match_id).join(Round)
             .where(Outcome.participant_id == person.id).order_by(Outcome.reported_at, Outcome.id))
    return [f"Round {number}, {day(o.reported_at)}: {'MET' if o.met else 'NOT MET'}"
            + (f" ({o.reason})" if o.reason else "") for o, number in session.execute(query)]


def sat_out(session: Session, person: Participant) -> list[str]:
    query = select(SitOut.reason, Round.number).join(Round).where(SitOut.participant_id == person.id)
    rows = session.execute(query.order_by(Round.number))
    return [f"Round {number}: {SAT_OUT.get(reason, reason)}" for reason, number in rows]


def pending(session: Session, person: Participant, day: Show) -> list[str]:
    query = select(Token).where(Token.participant_id == person.id, Token.used_at.is_(None)).order_by(Token.created_at)
    return [f"{token.purpose} requested {day(token.created_at)}, open until {day(token.expires_at)}"
            for token in session.scalars(query)]


def audit_trail(session: Session, person: Participant, when: Show) -> list[str]:
    query = select(AuditEvent).where(AuditEvent.participant_id == person.id).order_by(AuditEvent.at, AuditEvent.id)
    lines = []
    for event in session.scalars(query):
        change = f" ({event.old_status or 'new'} to {event.new_status})" if event.new_status != event.old_status else ""
        lines.append(f"{when(event.at)}: {event.action}{change}, by {event.source}"
                     + (f"; {event.detail}" if event.detail else ""))
    return lines


def received(session: Session, person: Participant, when: Show, answering: int | None) -> list[str]:
    return [f"{when(r.received_at)}: \"{r.subject or '(no subject)'}\" from {r.sender or '(erased)'}: "
            f"{r.action or r.disposition}" for r in inbound_from(session, person) if r.id != answering]


def sent(session: Session, person: Participant, when: Show) -> list[str]:
    return [f"{when(row.created_at)}: \"{row.subject or row.kind}\" ({row.status})"
            for row in outbox_for(session, person)]
