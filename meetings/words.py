"""How someone wants to meet, and a profile given in plain words (pure).

"Online", "in person", "either" become a meeting mode. A reply to the welcome such
as "Mornings are best, I'm in Leeds" becomes the PROFILE lines it means
("Available: Mornings", "Where: Leeds"). Reading is conservative: a clause counts
only when all of it is understood, and nothing is read from a reply that says
anything else we cannot place, so chat is never taken for a profile.
"""
from __future__ import annotations

import re

from meetings.availability import Unreadable, parse_availability
from meetings.zones import parse_time_zone

ONLINE, IN_PERSON, EITHER = "online", "in_person", "either"
MODE_NAMES = {ONLINE: "online", IN_PERSON: "in person", EITHER: "online or in person"}
MODE_EXAMPLE = "Meet: online, in person or either"
_ONLINE = re.compile(r"\b(online|on-?line|video|remote(ly)?|virtual(ly)?|teams|zoom|google meet|call)\b", re.I)
_IN_PERSON = re.compile(r"\b(in[- ]person|face[- ]to[- ]face|f2f|irl|over (a )?coffee|in real life|meet up)\b", re.I)
_EITHER = re.compile(r"^(either|both|any|anything|whatever|no preference|don'?t mind|either is fine|"
                     r"either way|flexible)\b", re.I)

_PLACE = re.compile(
    r"^(?i:i'?m|i am|we'?re|i'?m based|i am based|based|i work|working|i live|i'?m usually|usually)\s+"
    r"(?i:based\s+)?(?i:in|at|near|out of)\s+(?i:our\s+|the\s+)?(?P<place>[A-Z][\w'&-]*(?:\s+(?:[A-Z][\w'&-]*|upon|on|the|of))*"
    r"(?:\s+[A-Z][\w'&-]*)?)\s*(?:office)?$"
)
_ZONE = re.compile(r"^(?:my\s+)?(?:time\s*zone|tz)\s*(?:is|:)?\s*(?P<zone>.+)$|^(?:i'?m\s+)?on\s+(?P<on>.+?)\s+time$",
                   re.I)
_MODE_CLAUSE = re.compile(
    r"^(?:(?:i'?d|i would|i'?m|i am|happy|prefer|i prefer|ideally|preferably|rather|like|love|keen|glad|to|meet|"
    r"meeting|be|either|or|and|both|fine|ok|okay|is|works|in|online|person|in person|face|f2f|video|call|teams|"
    r"zoom|over|a|coffee|remote|remotely|virtually|virtual|would|happy to|best|good|great|for|me|please)\b[\s,/-]*)+$",
    re.I,
)
_CLAUSES = re.compile(r"[.;!\n]+|,\s*(?:and\s+|but\s+)?|\s+(?:and|but)\s+(?=i'?m\b|i am\b|my\b|based\b|happy\b)",
                      re.I)
MAX_CHARS = 300
MEETING_LINE = re.compile(r"^\s*(available|availability|meet|where|time\s?zone)\s*[:=]", re.I)


def meets_in_person(profiles: list[tuple[str, str]]) -> bool:
    """A group meets in person when everyone is happy to, at least one asked for it, and all named the
    same place; ``profiles``: each member's (meeting mode, place)."""
    modes = {mode for mode, _ in profiles}
    places = {" ".join(place.casefold().split()) for _, place in profiles}
    return modes <= {IN_PERSON, EITHER} and IN_PERSON in modes and len(places) == 1 and "" not in places


def parse_meet_mode(text: str) -> str | None:
    """online, in_person or either for what someone wrote, None when we cannot tell."""
    words = " ".join(text.split())[:100]
    if not words:
        return None
    online, in_person = bool(_ONLINE.search(words)), bool(_IN_PERSON.search(words) or re.search(
        r"\bperson\b", words, re.I))
    if _EITHER.match(words) or (online and in_person):
        return EITHER
    return ONLINE if online else IN_PERSON if in_person else None


def profile_in_words(text: str) -> list[str]:
    """PROFILE lines for a short reply in plain words, or [] when any part of it is not about when, where or how."""
    if not text.strip() or len(text) > MAX_CHARS:
        return []
    lines: list[str] = []
    for clause in filter(None, (c.strip(" -–—()") for c in _CLAUSES.split(text.strip()))):
        line = _clause_line(clause)
        if line is None:
            return []
        lines.append(line)
    return lines


def _clause_line(clause: str) -> str | None:
    if place := _PLACE.match(clause):
        return f"Where: {place.group('place')}"
    if zone := _ZONE.match(clause):
        words = zone.group("zone") or zone.group("on")
        return f"Time zone: {words}" if parse_time_zone(words) else None
    if _MODE_CLAUSE.match(clause) and parse_meet_mode(clause):
        return f"Meet: {MODE_NAMES[parse_meet_mode(clause) or EITHER]}"
    try:
        return f"Available: {clause}" if parse_availability(clause) else None
    except Unreadable:
        return None
