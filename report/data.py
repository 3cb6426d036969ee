"""Load everything the report needs from the database into plain, immutable values (the only SQL in report/)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matching import organisation_key
from meetings.words import meets_in_person
from models import AuditEvent, InboundMessage, Match, MatchMember, Outcome, Participant, Round, Share, SitOut

FORGOTTEN = re.compile(r"forgotten-\d+@invalid")
MET, NOT_MET, NO_REPORT = "met", "not met", "no report"


@dataclass(frozen=True, slots=True)
class Person:
    """One participant. `alias` (p0001, by join date) is what the published report shows."""

    id: int
    alias: str
    name: str
    email: str
    org: str          # organisation key ("" when not known, e.g. forgotten)
    org_label: str    # how the organisation is written ("" when not known)
    status: str
    campaign: str
    joined: datetime
    confirmed: datetime | None
    forgotten: bool


@dataclass(frozen=True, slots=True)
class RoundInfo:
    number: int
    seed: int
    opened_at: datetime
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class Report:
    """One person's report on a group: MET, or NOT MET with a reason."""

    id: int
    match_id: int
    person: int | None
    met: bool
    reason: str
    reason_group: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Meeting:
    """What was done to help a group meet (issue 16): the facts the "why not" evidence compares."""

    booked: bool              # a member booked one of the offered times
    offered: str              # "times offered", "no shared time" (options were due but none fitted), "" (none due)
    mode: str                 # "in person", "online" or "not said", from the members' profiles
    host_hours: float | None  # hours from the introduction to the host's first email in the round; None: none


NO_MEETING = Meeting(False, "", "not said", None)


@dataclass(frozen=True, slots=True)
class Group:
    """A pair or trio introduced in a round, with the outcome its latest report gives."""

    id: int
    round_no: int
    members: tuple[int, ...]
    odd_one: int | None
    outcome: str              # met, not met, no report
    reason_group: str         # of the deciding NOT MET report ("" if none given)
    meeting: Meeting = NO_MEETING

    @property
    def pairs(self) -> list[tuple[int, int]]:
        m = self.members
        return [(m[i], m[j]) for i in range(len(m)) for j in range(i + 1, len(m))]


@dataclass(frozen=True, slots=True)
class SitOutRow:
    round_no: int
    person: int
    reason: str


@dataclass(frozen=True, slots=True)
class ShareRow:
    round_no: int | None
    person: int | None
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    person: int
    at: datetime
    old: str
    new: str


@dataclass(frozen=True)
class History:
    """Everything the report draws on, read once in one transaction."""

    people: dict[int, Person]          # in alias order
    rounds: list[RoundInfo]            # by number
    groups: list[Group]                # by round, then id
    reports: list[Report]
    sit_outs: list[SitOutRow]
    shares: list[ShareRow]
    changes: list[StatusChange]        # by time


def load(session: Session) -> History:
    people = _people(session)
    rounds = [RoundInfo(*row) for row in session.execute(
        select(Round.number, Round.seed, Round.opened_at, Round.closed_at).order_by(Round.number))]
    reports = [Report(*row) for row in session.execute(select(
        Outcome.id, Outcome.match_id, Outcome.participant_id, Outcome.met, Outcome.reason, Outcome.reason_group,
        Outcome.reported_at).order_by(Outcome.id))]
    return History(people, rounds, _groups(session, reports), reports, _sit_outs(session), _shares(session),
                   _changes(session))


def _people(session: Session) -> dict[int, Person]:
    rows = session.execute(select(
        Participant.id, Participant.name, Participant.email, Participant.organisation, Participant.status,
        Participant.campaign, Participant.created_at, Participant.confirmed_at,
    ).order_by(Participant.created_at, Participant.id)).all()
    width = max(4, len(str(len(rows))))
    labels: dict[str, str] = {}
    people = {}
    for n, (pid, name, email, organisation, status, campaign, joined, confirmed) in enumerate(rows, 1):
        forgotten = bool(FORGOTTEN.fullmatch(email))
        org = "" if forgotten else _org_key(organisation, email)
        stated = " ".join((organisation or "").split())
        if org and (org not in labels or (stated and labels[org] == org)):
            labels[org] = stated or org
        people[pid] = Person(pid, f"p{n:0{width}d}", name, email, org, "", str(status), campaign, joined,
                             confirmed, forgotten)
    return {pid: _with_label(p, labels.get(p.org, "")) for pid, p in people.items()}


def _with_label(person: Person, label: str) -> Person:
    return Person(person.id, person.alias, person.name, person.email, person.org, label, person.status,
                  person.campaign, person.joined, person.confirmed, person.forgotten)


def _org_key(organisation: str, email: str) -> str:
    try:
        return organisation_key(organisation, email)
    except ValueError:
        return ""


def latest_reports(reports: list[Report]) -> dict[int, Report]:
    """Each match's deciding report: the latest one (same rule as rounds.history.match_outcomes)."""
    latest: dict[int, Report] = {}
    for r in reports:
        best = latest.get(r.match_id)
        if best is None or (r.at, r.id) > (best.at, best.id):
            latest[r.match_id] = r
    return latest


def _groups(session: Session, reports: list[Report]) -> list[Group]:
    members: dict[int, list[int]] = defaultdict(list)
    for match_id, pid in session.execute(select(MatchMember.match_id, MatchMember.participant_id)):
        members[match_id].append(pid)
    deciding = latest_reports(reports)
    modes = _modes(session)
    answered = _host_answers(session)
    query = select(Match.id, Round.number, Match.odd_one_id, Match.booked_start, Match.booking_state, Match.options,
                   Match.options_at, Round.opened_at).join(Round, Round.id == Match.round_id)
    groups = []
    for match_id, number, odd_one, booked_start, state, options, options_at, opened in session.execute(
            query.order_by(Round.number, Match.id)):
        booked = booked_start is not None and state != "cancelled"  # a booking called off and never remade is none
        report = deciding.get(match_id)
        outcome = NO_REPORT if report is None else MET if report.met else NOT_MET
        reason = report.reason_group if report is not None and not report.met else ""
        people = tuple(sorted(members[match_id]))
        first = answered.get(match_id)
        meeting = Meeting(booked, _offered(options, options_at), meeting_mode([modes.get(p) for p in people]),
                          None if first is None else max(0.0, (first - opened).total_seconds() / 3600))
        groups.append(Group(match_id, number, people, odd_one, outcome, reason, meeting))
    return groups


def _offered(options: str, options_at: datetime | None) -> str:
    if options_at is None:
        return ""
    return "times offered" if options.strip() not in ("", "[]") else "no shared time"


def meeting_mode(profiles: list[tuple[str, str] | None]) -> str:
    """In person as the introduction decides it (meetings.words.meets_in_person); else online, or not said."""
    if not any(p is not None and p[0] for p in profiles):
        return "not said"
    return "in person" if meets_in_person([p or ("", "") for p in profiles]) else "online"


def _modes(session: Session) -> dict[int, tuple[str, str]]:
    return {pid: (mode, place) for pid, mode, place in session.execute(
        select(Participant.id, Participant.meet_mode, Participant.place))}


def _host_answers(session: Session) -> dict[int, datetime]:
    """Each group's host's first email to us while its round was open (the round's own window)."""
    query = (select(Match.id, func.min(InboundMessage.received_at))
             .join(Round, Round.id == Match.round_id)
             .join(InboundMessage, InboundMessage.participant_id == Match.host_id)
             .where(InboundMessage.received_at >= Round.opened_at,
                    or_(Round.closed_at.is_(None), InboundMessage.received_at < Round.closed_at))
             .group_by(Match.id))
    return {match_id: first for match_id, first in session.execute(query)}


def _sit_outs(session: Session) -> list[SitOutRow]:
    query = select(Round.number, SitOut.participant_id, SitOut.reason).join(Round, Round.id == SitOut.round_id)
    return [SitOutRow(*row) for row in session.execute(query.order_by(Round.number, SitOut.id))]


def _shares(session: Session) -> list[ShareRow]:
    query = select(Round.number, Share.participant_id, Share.text, Share.shared_at).outerjoin(
        Round, Round.id == Share.round_id)
    return [ShareRow(*row) for row in session.execute(query.order_by(Share.shared_at, Share.id))]


def _changes(session: Session) -> list[StatusChange]:
    """Status changes from the audit trail; FORGET is recorded before erasure sets `left`, so it means left."""
    query = select(AuditEvent.participant_id, AuditEvent.at, AuditEvent.action, AuditEvent.old_status,
                   AuditEvent.new_status).where(AuditEvent.participant_id.is_not(None))
    changes = []
    for pid, at, action, old, new in session.execute(query.order_by(AuditEvent.at, AuditEvent.id)):
        new = "left" if action == "forgotten" else new
        if new:
            changes.append(StatusChange(pid, at, old, new))
    return changes
