"""PROFILE's meeting lines (Available, Meet, Where, Time zone): checked before anything is stored, and shown back.

A line we cannot read is not stored (the old value stays) and comes back in the
answer with what we could not read and an example, so a guess never replaces
what the person meant.
"""
from __future__ import annotations

from dataclasses import dataclass

from meetings.availability import EXAMPLE as AVAILABLE_EXAMPLE, Unreadable, describe, from_json, \
    parse_availability, to_json
from meetings.words import MODE_EXAMPLE, MODE_NAMES, parse_meet_mode
from meetings.zones import EXAMPLE as ZONE_EXAMPLE, parse_time_zone
from models import Participant

MEETING_FIELDS = ("available", "meet_mode", "place", "time_zone")


@dataclass(frozen=True)
class Problem:
    field: str
    wrote: str
    why: str
    example: str


def checked(updates: dict[str, str]) -> tuple[dict[str, str], list[Problem]]:
    """The updates to store (meeting lines normalised, `availability` added) and the lines we could not read."""
    changes = {k: v for k, v in updates.items() if k not in ("available", "meet_mode", "time_zone")}
    problems = []
    for field, reader in (("available", _available), ("meet_mode", _meet_mode), ("time_zone", _time_zone)):
        if field in updates:
            read = reader(updates[field])
            if isinstance(read, Problem):
                problems.append(read)
            else:
                changes.update(read)
    return changes, problems


def _available(value: str) -> dict[str, str] | Problem:
    if not value:
        return {"available": "", "availability": ""}
    try:
        windows = parse_availability(value)
    except Unreadable as exc:
        return Problem("Available", value, f'we could not read "{exc}"', AVAILABLE_EXAMPLE)
    if not windows:
        return Problem("Available", value, "it names no days or times", AVAILABLE_EXAMPLE)
    return {"available": value, "availability": to_json(windows)}


def _meet_mode(value: str) -> dict[str, str] | Problem:
    mode = parse_meet_mode(value) if value else ""
    if mode is None:
        return Problem("Meet", value, "we could not tell online from in person", MODE_EXAMPLE)
    return {"meet_mode": mode}


def _time_zone(value: str) -> dict[str, str] | Problem:
    zone = parse_time_zone(value) if value else ""
    if zone is None:
        return Problem("Time zone", value, "we do not know that time zone", ZONE_EXAMPLE)
    return {"time_zone": zone}


def meeting_lines(person: Participant, service_zone: str) -> list[str]:
    """How the PROFILE answer (and MYDATA) shows the four meeting lines, with what we understood."""
    available = f"{person.available} (we read: {describe(from_json(person.availability))})" \
        if person.available else "(not given: any working day, working hours)"
    return [
        f"Available: {available}",
        f"Meet: {MODE_NAMES.get(person.meet_mode, '(not given: online)')}",
        f"Where: {person.place or '(not given)'}",
        f"Time zone: {person.time_zone or (f'(not given: {service_zone})' if service_zone else '(not given)')}",
    ]
