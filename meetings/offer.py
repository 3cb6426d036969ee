"""What an introduction (and a nudge) offers a group: times that fit everyone, shown in each reader's own
zone, a host, where or how to meet, and a conversation starter. Stored on the match in the caller's
transaction; `matches.options` is a JSON list of UTC ISO-8601 starts, option 1 first (booking reads it).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from meetings.availability import from_json
from meetings.slots import Person, Rules, find_slots
from meetings.words import meets_in_person
from meetings.zones import zone_label, zone_of
from models import Match, Participant

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def person_of(member: Participant, settings: Settings) -> Person:
    return Person(zone_of(member.time_zone, settings.tz), tuple(from_json(member.availability)))


def rules_of(settings: Settings) -> Rules:
    m = settings.meetings
    return Rules(minutes=m.slot_minutes, count=m.options, day_start=m.day_start, day_end=m.day_end,
                 calendar=settings.calendar)


def times_for(settings: Settings, members: Sequence[Participant], host_id: int | None, latest: datetime | None,
              now: datetime) -> list[datetime]:
    """Times that suit every member from now until `latest`, the host's day first (none without a `latest`)."""
    if latest is None:
        return []
    host_first = sorted(members, key=lambda p: p.id != host_id)
    return find_slots([person_of(p, settings) for p in host_first], now, latest, now, rules_of(settings))


def options_json(starts: Sequence[datetime]) -> str:
    """How `matches.options` keeps the times offered: UTC ISO strings, option 1 first."""
    return json.dumps([s.astimezone(timezone.utc).strftime(ISO_UTC) for s in starts])


def offer_times(session: Session, settings: Settings, match: Match, members: Sequence[Participant],
                latest: datetime | None, now: datetime) -> list[datetime]:
    """Fresh options for the group from now until `latest` (the round's check-in), stored on the match."""
    starts = times_for(settings, members, match.host_id, latest, now)
    match.options, match.options_at = options_json(starts), now
    return starts


def stored_options(match: Match) -> list[datetime]:
    """The options last offered, option 1 first ([] when none, or when the column holds something unexpected)."""
    try:
        return [datetime.fromisoformat(text).astimezone(timezone.utc) for text in json.loads(match.options or "[]")]
    except (ValueError, TypeError, AttributeError):
        return []


def hosted_counts(session: Session, ids: Sequence[int] | None = None) -> dict[int, int]:
    """How often each person (of `ids`, or everyone) has hosted a group."""
    query = select(Match.host_id, func.count()).where(Match.host_id.is_not(None)).group_by(Match.host_id)
    if ids is not None:
        query = query.where(Match.host_id.in_(ids))
    return {host: count for host, count in session.execute(query)}


def where_to_meet(settings: Settings, members: Sequence[Participant], host: Participant, token: str) -> dict[str, str]:
    """In person, at their shared place, when everyone is happy to and at least one asked for it; else online,
    with the host's (or another member's) video link from their profile, or the organiser's link template."""
    if meets_in_person([(p.meet_mode, p.place) for p in members]):
        return {"mode": "in_person", "place": members[0].place, "link": ""}
    links = [p.video for p in sorted(members, key=lambda p: p.id != host.id) if p.video.startswith("https://")]
    template = settings.meetings.video_link
    link = links[0] if links else template.replace("{token}", token) if template else ""
    return {"mode": "online", "place": "", "link": link}


def when_lines(starts: Sequence[datetime], reader: Participant, settings: Settings) -> list[str]:
    """"Tue 8 Dec, 10:00–10:30 (London time)" for each option, in the reader's own zone."""
    zone = zone_of(reader.time_zone, settings.tz)
    length = timedelta(minutes=settings.meetings.slot_minutes)
    label = zone_label(zone)
    return [f"{s.astimezone(zone):%a %-d %b, %H:%M}–{(s + length).astimezone(zone):%H:%M} ({label})" for s in starts]


def numbers(count: int) -> str:
    """"1, 2 or 3" for three options."""
    shown = [str(n) for n in range(1, count + 1)]
    return " or ".join(filter(None, [", ".join(shown[:-1]), shown[-1]])) if shown else ""


def offer_context(settings: Settings, starts: Sequence[datetime], members: Sequence[Participant],
                  host: Participant | None, meeting: dict[str, str], starter: str) -> dict[int, dict[str, Any]]:
    """Each member's own part of the email: the options in their time zone, the rest alike."""
    host_name = (host.greeting_name or host.name or host.email.split("@")[0]) if host else ""
    shared = {"numbers": numbers(len(starts)), "host_name": host_name, "meeting": meeting, "starter": starter,
              "minutes": settings.meetings.slot_minutes}
    return {p.id: {**shared, "options": when_lines(starts, p, settings)} for p in members}
