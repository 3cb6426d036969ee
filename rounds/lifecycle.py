"""The round lifecycle, driven by `tick`: open (match and introduce), nudge, check in, close.

Each step is one transaction guarded by a timestamp on the round (opened,
nudged_at, checked_in_at, closed_at), and every email it queues carries a
dedupe key, so a step happens exactly once however often tick runs.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from mailer.outbox import enqueue, enqueue_group
from matching import Grouping, make_groups
from models import AuditEvent, Match, Participant, Round, SitOut, Status
from rounds.history import active_by_id, eligible, match_outcomes, past_pairs, people_for_matching
from rounds.introductions import group_context, introduce_all
from rounds.schedule import next_opening, parse_cadence, timeline
from rounds.silence import handle_silence
from wording import plural


Seeds = Callable[[], int]
"""Where a scheduled draw's seed comes from."""


def random_seed() -> int:
    return secrets.randbits(31)


@dataclass(frozen=True)
class Plan:
    """The groups a draw would make now, before anything is saved; people by id."""

    seed: int
    grouping: Grouping
    skipping: list[int]

    def everyone(self) -> set[int]:
        """Every id the plan places: in a group, sitting out, or skipping."""
        placed = {i for group in self.grouping.groups for i in group} | set(self.skipping)
        return placed if self.grouping.sitting_out is None else placed | {self.grouping.sitting_out}


def current_round(session: Session) -> Round | None:
    return session.scalar(select(Round).where(Round.closed_at.is_(None)).order_by(Round.number.desc()).limit(1))


def last_round(session: Session) -> Round | None:
    return session.scalar(select(Round).order_by(Round.number.desc()).limit(1))


def anchor_date(session: Session, settings: Settings) -> date | None:
    """Where the schedule starts: rounds.start, else the first round, else the day after the first sign-up."""
    if settings.rounds.start:
        return date.fromisoformat(settings.rounds.start)
    first_round = session.scalar(select(func.min(Round.opened_at)))
    if first_round is not None:
        return first_round.astimezone(settings.tz).date()
    first_member = session.scalar(select(func.min(Participant.confirmed_at)))
    return first_member.astimezone(settings.tz).date() + timedelta(days=1) if first_member else None


def next_open_time(session: Session, settings: Settings, after: datetime | None = None) -> datetime | None:
    anchor = anchor_date(session, settings)
    if anchor is None:
        return None
    last = after or (last_round(session).opened_at if last_round(session) else None)
    return next_opening(parse_cadence(settings.rounds.cadence), last, anchor, settings.rounds.open_hour, settings.tz,
                        settings.calendar)


def plan(session: Session, settings: Settings, seed: int | None = None) -> Plan:
    everyone = eligible(session)
    taking_part = [c for c in everyone if not c.skip_next]
    seed = random_seed() if seed is None else seed
    grouping = make_groups(people_for_matching(session, taking_part), past_pairs(session), seed, odd=settings.rounds.odd)
    return Plan(seed, grouping, [c.id for c in everyone if c.skip_next])


def open_round(session: Session, settings: Settings, now: datetime, source: str, seed: int | None = None) -> Round:
    """Close the running round (if any), then match everyone eligible and queue the introductions."""
    running = current_round(session)
    if running is not None:
        close_round(session, settings, running, now)
    resume_due_pauses(session, now)
    drawn = plan(session, settings, seed)
    number = (session.scalar(select(func.max(Round.number))) or 0) + 1
    rnd = Round(number=number, seed=drawn.seed, opened_at=now)
    session.add(rnd)
    session.flush()
    steps = timeline(now, next_open_time(session, settings, after=now) or now, settings.calendar, settings.tz,
                     settings.rounds.open_hour)
    rnd.nudge_due, rnd.checkin_due, rnd.closes_at = steps.nudge, steps.checkin, steps.closes
    people = active_by_id(session, drawn.everyone())
    introduce_all(session, settings, rnd, [[people[i] for i in group] for group in drawn.grouping.groups],
                  drawn.grouping.trio_extra, now)
    sitting = [(people[i], "skip") for i in drawn.skipping]
    if drawn.grouping.sitting_out is not None:
        sitting.append((people[drawn.grouping.sitting_out], "odd"))
    for person, reason in sitting:
        _sit_out(session, settings, rnd, person, reason, now)
    session.add(AuditEvent(at=now, action="round-opened", source=source,
                           detail=f"round {number}: {plural(len(drawn.grouping.groups), 'group')}, seed {drawn.seed}"))
    return rnd


def group_count(session: Session, rnd: Round) -> int:
    """How many groups a round has, counted by the database rather than by loading every match."""
    return session.scalar(select(func.count(Match.id)).where(Match.round_id == rnd.id)) or 0


def _sit_out(session: Session, settings: Settings, rnd: Round, person: Participant, reason: str,
             now: datetime) -> None:
    rnd.sit_outs.append(SitOut(participant_id=person.id, reason=reason))
    person.skip_next = False
    next_round = (rnd.closes_at or now).astimezone(settings.tz).strftime("%-d %B")
    enqueue(session, settings, template="participant/sit_out", to=person, now=now,
            context={"reason": reason, "next_round": next_round}, dedupe_key=f"sit_out:{rnd.id}:{person.id}")


def resume_due_pauses(session: Session, now: datetime) -> None:
    """People who paused until a date come back by themselves for the first round after it."""
    due = select(Participant).where(Participant.status == Status.PAUSED, Participant.paused_until.is_not(None),
                                    Participant.paused_until <= now)
    for person in session.scalars(due):
        person.status, person.paused_until = Status.ACTIVE, None
        session.add(AuditEvent(at=now, participant_id=person.id, action="resumed", old_status=Status.PAUSED,
                               new_status=Status.ACTIVE, source="schedule", detail="pause ended"))


def close_round(session: Session, settings: Settings, rnd: Round, now: datetime) -> None:
    rnd.closed_at = now
    handle_silence(session, settings, rnd, now)
    session.add(AuditEvent(at=now, action="round-closed", source="schedule", detail=f"round {rnd.number}"))


def remind(session: Session, settings: Settings, rnd: Round, template: str, now: datetime) -> int:
    """Queue a nudge or check-in to every group of the round that has not reported yet."""
    reported = match_outcomes(session)
    sent = 0
    for match in rnd.matches:
        if match.id in reported:
            continue
        members = [session.get_one(Participant, m.participant_id) for m in match.members]
        enqueue_group(session, settings, template=template, members=members, token=match.token, now=now,
                      context=group_context(settings, rnd, members), thread=match.intro_message_id or None,
                      dedupe_key=f"{template}:{match.id}")
        sent += 1
    return sent


def step_nudge(session: Session, settings: Settings, now: datetime, seeds: Seeds) -> str | None:
    rnd = current_round(session)
    if rnd is None or rnd.nudged_at is not None or rnd.nudge_due is None or now < rnd.nudge_due:
        return None
    rnd.nudged_at = now
    if rnd.checkin_due is not None and now >= rnd.checkin_due:
        return f"round {rnd.number}: nudge skipped, check-in is due"
    return f"round {rnd.number}: nudged {plural(remind(session, settings, rnd, 'group/nudge', now), 'group')}"


def step_checkin(session: Session, settings: Settings, now: datetime, seeds: Seeds) -> str | None:
    rnd = current_round(session)
    if rnd is None or rnd.checked_in_at is not None or rnd.checkin_due is None or now < rnd.checkin_due:
        return None
    rnd.checked_in_at = now
    return f"round {rnd.number}: checked in with {plural(remind(session, settings, rnd, 'group/checkin', now), 'group')}"


def step_open(session: Session, settings: Settings, now: datetime, seeds: Seeds) -> str | None:
    due = next_open_time(session, settings)
    if due is None or now < due:
        return None
    rnd = open_round(session, settings, now, source="schedule", seed=seeds())
    return f"round {rnd.number} opened: {plural(group_count(session, rnd), 'group')}"


STEPS: tuple[Callable[[Session, Settings, datetime, Seeds], str | None], ...] = (step_nudge, step_checkin, step_open)


def run_due(Session_: sessionmaker[Session], settings: Settings, now: datetime,
            seeds: Seeds = random_seed) -> list[str]:
    """Every step that is due, each in its own transaction; `seeds` gives each scheduled draw its seed
    (at random by default; the demo passes its own, so the same seed gives the same rounds)."""
    done = []
    for step in STEPS:
        with Session_.begin() as session:
            note = step(session, settings, now, seeds)
        if note:
            done.append(note)
    return done
