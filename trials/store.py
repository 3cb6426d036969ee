"""Trials in the database: plan, start (assign and tell people), stop, and read what happened.

The organiser's commands (`unmentoring experiment ...`) and `tick` call these inside their own
transaction; nothing here commits.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import organisation_key
from rounds.history import match_outcomes
from models import Assignment, AuditEvent, Experiment, Match, MatchMember, Outcome, Participant, Round, Status
from trials.analysis import Difference, Seen, difference, people_needed, rates, verdict
from trials.assign import Member, assign, assign_late
from trials.variables import GROUP_SIZES, VARIABLES, TrialError, Variable, variable_for

DAYS_PER_MONTH = 30.44
MAX_NAME = 60


@dataclass(frozen=True)
class ArmFigures:
    arm: str
    label: str
    people: int
    groups: int
    met: int
    seen: int
    connections_per_month: float
    paused: int
    left: int

    @property
    def rate(self) -> float:
        return self.met / self.seen if self.seen else 0.0


@dataclass(frozen=True)
class TrialView:
    experiment: Experiment
    variable: Variable
    arms: list[ArmFigures]
    difference: Difference | None
    rounds_done: int
    sentence: str


def find(session: Session, name: str) -> Experiment:
    found = session.scalar(select(Experiment).where(Experiment.name == name.strip()))
    if found is None:
        names = ", ".join(session.scalars(select(Experiment.name).order_by(Experiment.id))) or "none yet"
        raise TrialError(f"no trial called {name!r} (trials: {names}); plan one with `unmentoring experiment plan`")
    return found


def plan_trial(session: Session, name: str, arms: list[str], rounds: int, now: datetime) -> Experiment:
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise TrialError("give the trial a name, e.g. `unmentoring experiment plan cadence-2027 --arms monthly,two-monthly`")
    if session.scalar(select(Experiment.id).where(Experiment.name == name)) is not None:
        raise TrialError(f"a trial called {name!r} exists already: choose another name")
    variable = variable_for(arms)
    experiment = Experiment(name=name, variable=variable.key, arms=",".join(arms), rounds=rounds, planned_at=now)
    session.add(experiment)
    return experiment


def running(session: Session) -> list[Experiment]:
    return list(session.scalars(select(Experiment).where(Experiment.started_at.is_not(None),
                                                         Experiment.stopped_at.is_(None)).order_by(Experiment.id)))


def _member(person: Participant) -> Member:
    return Member(person.id, _org_of(person.organisation, person.email), person.confirmed_at or person.created_at)


def start_trial(session: Session, name: str, now: datetime, seed: int,
                starters: bool = True) -> tuple[Experiment, Counter[str]]:
    """Assign everyone active (who has not said NO TRIALS) to an arm; refuse when an arm would be too small.
    ``starters``: whether conversation starters are set (a trial of them needs some)."""
    experiment = find(session, name)
    if experiment.variable == "starters" and not starters:
        raise TrialError("a trial of conversation starters needs some: set meetings.starters (one per line) first")
    if experiment.started_at is not None:
        raise TrialError(f"trial {experiment.name!r} started on {experiment.started_at:%d %B %Y} already")
    clash = [e.name for e in running(session) if e.variable == experiment.variable]
    if clash:
        raise TrialError(f"trial {clash[0]!r} already compares {VARIABLES[experiment.variable].what}: "
                         f"stop it first (`unmentoring experiment stop {clash[0]}`)")
    people = list(session.scalars(select(Participant).where(Participant.status == Status.ACTIVE,
                                                            Participant.no_trials.is_(False))))
    arms = experiment.arm_list
    chosen = assign([_member(p) for p in people], arms, seed, now)
    sizes = Counter(chosen.values())
    _check_sizes(experiment, sizes)
    experiment.seed, experiment.started_at = seed, now
    experiment.first_round = (session.scalar(select(func.max(Round.number))) or 0) + 1
    session.add_all(Assignment(experiment_id=experiment.id, participant_id=pid, arm=arm, assigned_at=now)
                    for pid, arm in chosen.items())
    session.add(AuditEvent(at=now, action="trial-started", source="organiser",
                           detail=f"{experiment.name}: {', '.join(f'{a} {sizes[a]}' for a in arms)}, seed {seed}"))
    return experiment, sizes


def _check_sizes(experiment: Experiment, sizes: Counter[str]) -> None:
    size = max((GROUP_SIZES.get(a, 2) for a in experiment.arm_list), default=2)
    rounds = experiment.rounds // 2 if experiment.variable == "cadence" else experiment.rounds
    needed = people_needed(to_see=0.2, rounds=max(1, rounds), group_size=size)
    small = [a for a in experiment.arm_list if sizes[a] < needed]
    if small:
        have = ", ".join(f"{a} {sizes[a]}" for a in experiment.arm_list)
        raise TrialError(f"too few people to say anything: each arm needs at least {needed} to see a 20-point "
                         f"difference in meet rate over {experiment.rounds} rounds, and the arms would have {have}; "
                         "wait for more sign-ups, plan fewer arms, or plan more rounds (--rounds)")


def stop_trial(session: Session, name: str, now: datetime) -> TrialView:
    experiment = find(session, name)
    if not experiment.running:
        state = "has not started" if experiment.started_at is None else "has stopped already"
        raise TrialError(f"trial {experiment.name!r} {state}")
    view = trial_view(session, experiment, now)
    experiment.stopped_at = now
    experiment.last_round = _last_closed(session)
    experiment.stopped_early = view.rounds_done < experiment.rounds
    experiment.result = view.sentence
    session.add(AuditEvent(at=now, action="trial-stopped", source="organiser",
                           detail=f"{experiment.name}: {view.sentence}"[:2000]))
    return view


def _last_closed(session: Session) -> int | None:
    return session.scalar(select(func.max(Round.number)).where(Round.closed_at.is_not(None)))


def join_running(session: Session, person: Participant, now: datetime) -> list[tuple[str, str]]:
    """Put someone who has just confirmed into every running trial; the (variable, arm) they got."""
    got = []
    if person.no_trials:
        return got
    for experiment in running(session):
        rows = session.execute(select(Assignment.participant_id, Assignment.arm, Participant.organisation,
                                      Participant.email).join(Participant, Participant.id == Assignment.participant_id)
                               .where(Assignment.experiment_id == experiment.id)).all()
        if any(pid == person.id for pid, *_ in rows):
            continue
        assigned = {pid: (arm, _org_of(org, email)) for pid, arm, org, email in rows}
        arm = assign_late(_member(person), assigned, experiment.arm_list, experiment.seed or 0)
        session.add(Assignment(experiment_id=experiment.id, participant_id=person.id, arm=arm, assigned_at=now,
                               late=True))
        got.append((experiment.variable, arm))
    return got


def _org_of(organisation: str, email: str) -> str:
    try:
        return organisation_key(organisation, email)
    except ValueError:
        return ""


def leave_trials(session: Session, person: Participant, now: datetime) -> int:
    """NO TRIALS: out of every running trial from now on, and of any later one. How many they left."""
    person.no_trials = True
    left = 0
    for row in session.scalars(select(Assignment).join(Experiment, Experiment.id == Assignment.experiment_id)
                               .where(Assignment.participant_id == person.id, Assignment.left_at.is_(None),
                                      Experiment.stopped_at.is_(None))):
        row.left_at = now
        left += 1
    return left


def arms_now(session: Session) -> dict[int, dict[str, str]]:
    """For each person in a running trial, their arm in each variable (for drawing and writing a round)."""
    query = (select(Assignment.participant_id, Experiment.variable, Assignment.arm)
             .join(Experiment, Experiment.id == Assignment.experiment_id)
             .where(Experiment.started_at.is_not(None), Experiment.stopped_at.is_(None),
                    Assignment.left_at.is_(None), Assignment.participant_id.is_not(None)))
    result: dict[int, dict[str, str]] = defaultdict(dict)
    for pid, variable, arm in session.execute(query):
        result[pid][variable] = arm
    return dict(result)


def observations(session: Session, experiment: Experiment) -> list[Seen]:
    """Each trial member's part in each group of the trial's closed rounds (no report counts as not met)."""
    if experiment.first_round is None:
        return []
    arms = {pid: (arm, left) for pid, arm, left in session.execute(
        select(Assignment.participant_id, Assignment.arm, Assignment.left_at)
        .where(Assignment.experiment_id == experiment.id, Assignment.participant_id.is_not(None)))}
    rounds = select(Round.id).where(Round.number >= experiment.first_round, Round.closed_at.is_not(None))
    if experiment.last_round is not None:
        rounds = rounds.where(Round.number <= experiment.last_round)
    met = match_outcomes(session)
    query = (select(MatchMember.participant_id, Match.id, Round.opened_at).join(Match, Match.id == MatchMember.match_id)
             .join(Round, Round.id == Match.round_id).where(Match.round_id.in_(rounds)))
    seen = []
    for pid, match_id, opened in session.execute(query.order_by(Match.id)):
        arm, left = arms.get(pid, (None, None))
        if arm is not None and (left is None or opened < left):
            seen.append(Seen(pid, match_id, arm, met.get(match_id, False)))
    return seen


def trial_view(session: Session, experiment: Experiment, now: datetime) -> TrialView:
    variable = VARIABLES[experiment.variable]
    seen = observations(session, experiment)
    arms = experiment.arm_list
    rounds_done = _rounds_done(session, experiment)
    diff = difference(seen, arms[0], arms[1]) if len(arms) >= 2 else None
    figures = _arm_figures(session, experiment, variable, seen, now)
    sentence = experiment.result if experiment.stopped_at is not None and experiment.result else \
        verdict(diff, rounds_done, variable.arms)
    return TrialView(experiment, variable, figures, diff, rounds_done, sentence)


def _rounds_done(session: Session, experiment: Experiment) -> int:
    query = select(func.count(Round.id)).where(Round.number >= (experiment.first_round or 0),
                                               Round.closed_at.is_not(None))
    if experiment.last_round is not None:
        query = query.where(Round.number <= experiment.last_round)
    return session.scalar(query) or 0


def _arm_figures(session: Session, experiment: Experiment, variable: Variable, seen: list[Seen],
                 now: datetime) -> list[ArmFigures]:
    rows = session.execute(select(Assignment.arm, Assignment.participant_id, Participant.status)
                           .outerjoin(Participant, Participant.id == Assignment.participant_id)
                           .where(Assignment.experiment_id == experiment.id)).all()
    people = Counter(arm for arm, _, _ in rows)
    left = Counter(arm for arm, pid, status in rows if pid is None or status == Status.LEFT)
    paused = _paused(session, experiment, {pid: arm for arm, pid, _ in rows if pid is not None})
    new = _new_connections(session, seen)
    months = max(((experiment.stopped_at or now) - (experiment.started_at or now)).days / DAYS_PER_MONTH, 1.0)
    by_arm = rates(seen)
    result = []
    for arm in experiment.arm_list:
        rate = by_arm.get(arm)
        groups = len({s.group for s in seen if s.arm == arm})
        result.append(ArmFigures(arm, variable.arms.get(arm, arm), people[arm], groups, rate.met if rate else 0,
                                 rate.seen if rate else 0, new[arm] / max(people[arm], 1) / months, paused[arm],
                                 left[arm]))
    return result


def _paused(session: Session, experiment: Experiment, arm_of: dict[int, str]) -> Counter[str]:
    query = select(AuditEvent.participant_id).where(AuditEvent.new_status == Status.PAUSED,
                                                     AuditEvent.at >= experiment.started_at).distinct()
    if experiment.stopped_at is not None:
        query = query.where(AuditEvent.at < experiment.stopped_at)
    return Counter(arm_of[pid] for pid in session.scalars(query) if pid in arm_of)


def _new_connections(session: Session, seen: list[Seen]) -> Counter[str]:
    """Per arm: people met for the first time in the trial's groups, counted for each member in the arm."""
    members: dict[int, list[Seen]] = defaultdict(list)
    for s in seen:
        members[s.group].append(s)
    earlier = _met_before(session, min(members, default=0))
    count: Counter[str] = Counter()
    met_pairs: set[tuple[int, int]] = set(earlier)
    for group in sorted(members):
        rows = members[group]
        if not rows[0].met:
            continue
        ids = sorted(s.person for s in rows)
        for s in rows:
            count[s.arm] += sum((min(s.person, o), max(s.person, o)) not in met_pairs for o in ids if o != s.person)
        met_pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return count


def _met_before(session: Session, first_match: int) -> set[tuple[int, int]]:
    """Pairs who met in groups before the trial's first group (any report of MET counts)."""
    met_matches = select(Outcome.match_id).where(Outcome.met.is_(True), Outcome.match_id < first_match)
    by_match: dict[int, list[int]] = defaultdict(list)
    for match_id, pid in session.execute(select(MatchMember.match_id, MatchMember.participant_id)
                                         .where(MatchMember.match_id.in_(met_matches))):
        by_match[match_id].append(pid)
    return {(min(a, b), max(a, b)) for ids in by_match.values() for i, a in enumerate(ids) for b in ids[i + 1:]}


def all_views(session: Session, now: datetime) -> list[TrialView]:
    """Every started trial, oldest first, for the report."""
    query = select(Experiment).where(Experiment.started_at.is_not(None)).order_by(Experiment.id)
    return [trial_view(session, e, now) for e in session.scalars(query)]


def arms_by_person(session: Session) -> dict[int, list[tuple[str, str]]]:
    """Each person's (trial name, arm), for the open data: the arm is anonymous once the person is an alias."""
    result: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pid, name, arm in session.execute(select(Assignment.participant_id, Experiment.name, Assignment.arm)
                                          .join(Experiment, Experiment.id == Assignment.experiment_id)
                                          .where(Assignment.participant_id.is_not(None))
                                          .order_by(Experiment.id, Assignment.id)):
        result[pid].append((name, arm))
    return dict(result)
