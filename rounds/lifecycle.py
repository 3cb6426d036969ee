"""The round lifecycle, driven by `tick`: open (match and introduce), nudge, check in, close.

Each step is one transaction guarded by a timestamp on the round (opened,
nudged_at, checked_in_at, closed_at), and every email it queues carries a
dedupe key, so a step happens exactly once however often tick runs.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from mailer.outbox import enqueue
from models import AuditEvent, Match, OutboundMessage, Participant, Round, SitOut, Status
from rounds.schedule import at_local, next_opening, parse_cadence, timeline
from wording import plural

if TYPE_CHECKING:
    from matching import Grouping
    from trials.rounds import RoundTrials


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
    trial_off: list[int] = field(default_factory=list)   # two-monthly people in a trial, in their month off
    waiting: list[int] = field(default_factory=list)     # sitting out for an odd number in a trial arm's own draw
    trials: RoundTrials | None = None                    # what running trials change in this round

    def everyone(self) -> set[int]:
        """Every id the plan places: in a group, sitting out, or skipping."""
        placed = {i for group in self.grouping.groups for i in group} | set(self.skipping) | set(self.trial_off)
        placed |= set(self.waiting)
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


def plan(session: Session, settings: Settings, seed: int | None = None, now: datetime | None = None) -> Plan:
    """The draw: groups of ``rounds.group_size``; free hours compared in the week of ``now``. People in a
    running trial whose arms change the meeting are drawn with their own arm (see trials.rounds)."""
    from matching import make_groups  # the matcher and the history: only for a draw, not on every tick
    from rounds.history import eligible, people_for_matching
    from rounds.pair_index import past_pairs
    from trials.draw import combine, round_trials_now

    everyone = eligible(session)
    taking_part = [c for c in everyone if not c.skip_next]
    seed = random_seed() if seed is None else seed
    week_of = now.astimezone(settings.tz).date() if now else None
    trials = round_trials_now(session, [c.id for c in taking_part])
    history = past_pairs(session)
    groupings = []
    for n, (part, ids) in enumerate(sorted(trials.parts.items())):
        chosen = set(ids)
        people = people_for_matching(session, [c for c in taking_part if c.id in chosen], settings.tz, week_of)
        groupings.append(make_groups(people, history, seed + n, odd=settings.rounds.odd,
                                     size=trials.group_size(part, settings.rounds.group_size)))
    grouping, waiting = combine(groupings)
    return Plan(seed, grouping, [c.id for c in everyone if c.skip_next], sorted(trials.sitting_out), waiting, trials)


def open_round(session: Session, settings: Settings, now: datetime, source: str, seed: int | None = None) -> Round:
    """Close the running round (if any), then match everyone eligible and queue the introductions."""
    from rounds.history import active_by_id
    from rounds.introductions import introduce_all
    from rounds.pair_index import record_groups

    running = current_round(session)
    if running is not None:
        close_round(session, settings, running, now)
    resume_due_pauses(session, now)
    drawn = plan(session, settings, seed, now)
    number = (session.scalar(select(func.max(Round.number))) or 0) + 1
    rnd = Round(number=number, seed=drawn.seed, opened_at=now)
    session.add(rnd)
    session.flush()
    steps = timeline(now, next_open_time(session, settings, after=now) or now, settings.calendar, settings.tz,
                     settings.rounds.open_hour)
    rnd.nudge_due, rnd.checkin_due, rnd.closes_at = steps.nudge, steps.checkin, steps.closes
    people = active_by_id(session, drawn.everyone())
    introduce_all(session, settings, rnd, [[people[i] for i in group] for group in drawn.grouping.groups],
                  set(drawn.grouping.extras), now, drawn.trials)
    record_groups(session, number, drawn.grouping.groups)
    sitting = [(people[i], "skip") for i in drawn.skipping] + [(people[i], "odd") for i in drawn.waiting]
    sitting += [(people[i], "trial") for i in drawn.trial_off]
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
    if reason == "trial":
        return   # their month off in a two-monthly trial arm: the trial's email told them, and skip_next waits
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
    from rounds.silence import handle_silence

    rnd.closed_at = now
    handle_silence(session, settings, rnd, now)
    session.add(AuditEvent(at=now, action="round-closed", source="schedule", detail=f"round {rnd.number}"))


def remind(session: Session, settings: Settings, rnd: Round, template: str, now: datetime) -> int:
    """Queue a nudge or check-in to every group of the round that has not reported yet (in bulk:
    `rounds.reminders`).

    A group that booked a time is not nudged, and is asked "Did you meet?" the working day after its
    meeting instead (`step_booked_checkins`); a group nudged without a booking gets fresh options."""
    from rounds.history import match_outcomes
    from rounds.reminders import groups_of, remind_all

    reported = set(match_outcomes(session)) | asked(session, template, rnd)
    due = [group for group in groups_of(session, rnd) if group.id not in reported
           and not _own_checkin(settings, rnd, group) and not (template == "group/nudge" and booked(group))]
    return remind_all(session, settings, rnd, due, template, now)


def asked(session: Session, template: str, rnd: Round) -> set[int]:
    """The round's groups that already got this reminder (its dedupe keys, `template:match:member`, are taken)."""
    keys = session.scalars(select(OutboundMessage.dedupe_key).where(
        OutboundMessage.created_at >= rnd.opened_at, OutboundMessage.dedupe_key.startswith(f"{template}:")))
    return {int(key.split(":")[1]) for key in keys if key and key.count(":") == 2}


class Booking(Protocol):
    """What tells whether a group booked a time: a `Match`, or a `rounds.reminders.Group`."""

    @property
    def booked_start(self) -> datetime | None: ...

    @property
    def booking_state(self) -> str: ...


def booked(match: Booking) -> bool:
    """A time is booked (a cancelled booking keeps its last start for the calendar's CANCEL, but is none)."""
    return match.booked_start is not None and match.booking_state != "cancelled"


def booked_checkin_due(settings: Settings, match: Booking) -> datetime | None:
    """"Did you meet?" for a booked group: the working day after its meeting, at the round's opening hour."""
    if not booked(match) or match.booked_start is None:
        return None
    met_on = match.booked_start.astimezone(settings.tz).date()
    return at_local(settings.calendar.on_or_after(met_on + timedelta(days=1)), settings.rounds.open_hour, settings.tz)


def _own_checkin(settings: Settings, rnd: Round, match: Booking) -> bool:
    """A booked group is checked in with by itself, unless that would come after the round closes."""
    due = booked_checkin_due(settings, match)
    return due is not None and (rnd.closes_at is None or due < rnd.closes_at)


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


def step_booked_checkins(session: Session, settings: Settings, now: datetime, seeds: Seeds) -> str | None:
    """"Did you meet?" to each booked group of the running round whose meeting day is over."""
    rnd = current_round(session)
    if rnd is None:
        return None
    met = session.scalars(select(Match).where(Match.round_id == rnd.id, Match.booked_start.is_not(None),
                                              Match.booked_start < now)).all()
    if not met:
        return None
    from rounds.history import match_outcomes

    from rounds.reminders import groups_of, remind_all

    done = set(match_outcomes(session)) | asked(session, "group/checkin", rnd)
    due = [m.id for m in met if m.id not in done and _own_checkin(settings, rnd, m)
           and (booked_checkin_due(settings, m) or now) <= now]
    count = remind_all(session, settings, rnd, groups_of(session, rnd, due), "group/checkin", now) if due else 0
    return f"round {rnd.number}: checked in with {plural(count, 'booked group')}" if count else None


def step_open(session: Session, settings: Settings, now: datetime, seeds: Seeds) -> str | None:
    due = next_open_time(session, settings)
    if due is None or now < due:
        return None
    rnd = open_round(session, settings, now, source="schedule", seed=seeds())
    return f"round {rnd.number} opened: {plural(group_count(session, rnd), 'group')}"


STEPS: tuple[Callable[[Session, Settings, datetime, Seeds], str | None], ...] = (
    step_nudge, step_booked_checkins, step_checkin, step_open)


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
