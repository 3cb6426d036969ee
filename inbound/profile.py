"""PROFILE (see or update what matches see about you) and SHARE (what you learned, for the report)."""
from __future__ import annotations

import re

from sqlalchemy import select

from inbound.context import Context, Decision, answer, audit, latest_match
from inbound.meeting_profile import checked, meeting_lines
from inbound.untrusted import person_name
from mailer.headers import clean_header_text
from models import Participant, Round, Share, Status

FIELDS = {
    "name": "name", "call me": "call_me", "preferred name": "call_me", "organisation": "organisation", "organization": "organisation", "org": "organisation",
    "role": "role", "job": "role", "job title": "role", "title": "role", "phone": "phone", "video": "video",
    "video call": "video", "video handle": "video", "zoom": "video", "teams": "video", "links": "links",
    "link": "links", "linkedin": "links", "website": "links", "bio": "bio", "about": "bio", "about me": "bio",
    "available": "available", "availability": "available", "when": "available", "meet": "meet_mode",
    "where": "place", "place": "place", "location": "place", "based in": "place", "office": "place",
    "time zone": "time_zone", "timezone": "time_zone", "tz": "time_zone",
}
LIMITS = {"name": 200, "call_me": 60, "organisation": 200, "role": 200, "phone": 60, "video": 200, "links": 500, "bio": 600,
          "available": 300, "meet_mode": 100, "place": 100, "time_zone": 64}
PROFILE_ORDER = ("name", "call_me", "organisation", "role", "phone", "video", "links", "bio")
NAMES = ("name", "call_me")  # go into greetings and headers: plain words, no links (inbound/untrusted.py)
_LABELS = {"call_me": "Call me"}
_SAID = {"call_me": "name to call you", "available": "availability", "meet_mode": "way to meet", "place": "place",
         "time_zone": "time zone"}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{1,20}?)\s*[:=]\s*(.*)$")


def profile_updates(text: str) -> dict[str, str]:
    """`Field: value` lines (pure); unknown fields are ignored, an empty value clears the field."""
    updates = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        field = FIELDS.get(" ".join(match.group(1).lower().split())) if match else None
        if match and field:
            value = person_name(match.group(2)) if field in NAMES else clean_header_text(match.group(2))
            updates[field] = value[:LIMITS[field]].strip()
    return updates


def profile_lines(person: Participant, service_zone: str = "") -> list[str]:
    """`service_zone`: the time zone shown for someone who gave none."""
    return [f"{_LABELS.get(name, name.capitalize())}: {_shown(person, name)}" for name in PROFILE_ORDER] \
        + meeting_lines(person, service_zone)


def _shown(person: Participant, name: str) -> str:
    if name == "call_me" and not person.call_me and person.greeting_name:
        return f"{person.greeting_name} (from your name)"
    return getattr(person, name) or "(not given)"


def profile(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None or person.status == Status.LEFT:
        answer(ctx, "participant/not_a_member", ctx.mail.sender, command="PROFILE", no_group_yet=False)
        return Decision("not-a-member", "PROFILE from someone not taking part")
    updates, problems = checked(profile_updates("\n".join(filter(None, [ctx.command.args if ctx.command else "",
                                                                       ctx.command.body if ctx.command else ""]))))
    for field, value in updates.items():
        setattr(person, field, value)
    said = sorted(_SAID.get(field, field) for field in updates if field != "availability")
    if updates:
        person.updated_at = ctx.now
        audit(ctx, person, "profile-updated", person.status, ", ".join(sorted(updates)))
    answer(ctx, "participant/profile", person, lines=profile_lines(person, ctx.settings.service.timezone), updated=said,
           problems=problems)
    note = ", ".join(sorted(updates)) + (f"; not read: {', '.join(p.field for p in problems)}" if problems else "")
    return Decision("profile-updated" if updates else "profile-unread" if problems else "profile-sent", note)


def share(ctx: Context) -> Decision:
    person = ctx.participant
    text = "\n".join(filter(None, [ctx.command.args if ctx.command else "", ctx.command.body if ctx.command else ""]))
    if person is None or not text.strip():
        answer(ctx, "participant/help", person or ctx.mail.sender)
        return Decision("share-empty", "nothing to share" if person else "not a participant")
    match = ctx.match or latest_match(ctx.session, person)
    ctx.session.add(Share(round_id=match.round_id if match else _latest_round_id(ctx), participant_id=person.id,
                          text=text.strip()[:2000], shared_at=ctx.now))
    answer(ctx, "participant/share_thanks", person)
    return Decision("shared", f"round {match.round_id}" if match else "no round yet")


def _latest_round_id(ctx: Context) -> int | None:
    return ctx.session.scalar(select(Round.id).order_by(Round.number.desc()).limit(1))


