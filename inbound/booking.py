"""BOOK and RESCHEDULE: a member picks one of the times offered, or asks for new ones.

Like an outcome, a booking acts for the whole group, so it needs proof of the sender
(Context.trusted: the group's token in its thread, their own token, DKIM/DMARC), else the
member is asked to CONFIRM. A choice found in ordinary words in the group's thread ("2 works
for me") counts only where times were offered; without them it is just conversation. Every
other problem (an option that does not exist, a time gone by, a round that has closed) gets
a short answer saying what to do instead. Nobody is booked except by a member's reply.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from inbound.choosing import argument
from inbound.context import Context, Decision, answer, latest_match
from inbound.signup import ask_to_confirm
from meetings.booking import BOOKED, book as book_time, call_off, describe, offer_fresh, offered
from meetings.zones import zone_of
from meetings.rebook import fresh_options
from models import Match, Participant, Round


def book(ctx: Context) -> Decision:
    checked = _checked(ctx)
    if isinstance(checked, Decision):
        return checked
    person, match = checked
    assert ctx.command is not None
    return _book_option(ctx, person, match, argument(ctx.command.args))


def reschedule(ctx: Context) -> Decision:
    """RESCHEDULE 3 moves the meeting to option 3; RESCHEDULE alone calls it off and offers new times."""
    checked = _checked(ctx)
    if isinstance(checked, Decision):
        return checked
    person, match = checked
    assert ctx.command is not None
    picked = argument(ctx.command.args)
    if picked:
        return _book_option(ctx, person, match, picked)
    if match.booking_state != BOOKED and fresh_options(ctx.session, ctx.settings, match, ctx.now) == offered(match):
        _problem(ctx, person, "offered", count=len(offered(match)))
        return Decision("reschedule-repeat", f"group {match.id}: these times are already on offer")
    if match.booking_state == BOOKED:
        call_off(ctx.session, ctx.settings, match, ctx.now)
    starts = offer_fresh(ctx.session, ctx.settings, match, ctx.now,
                         why=f"{person.name or person.email} asked for new times.", key=f"reschedule-{ctx.record.id}")
    return Decision("rescheduled", f"group {match.id}: {len(starts)} new times offered")


def _checked(ctx: Context) -> tuple[Participant, Match] | Decision:
    """The member and their group, or the Decision that ends here (no group, not trusted, round closed)."""
    person, command = ctx.participant, ctx.command
    assert command is not None
    match = ctx.match or (latest_match(ctx.session, person) if person else None)
    if command.said and (match is None or not offered(match)):
        return Decision("conversation", f"group {match.id} thread" if match else "no group")
    if person is None or match is None:
        sent = _problem(ctx, person or ctx.mail.sender, "no_group")
        return Decision("book-unmatched", "no group found for this sender" + ("" if sent else "; not answered"))
    if person.id not in {m.participant_id for m in match.members}:
        return Decision("book-not-member", f"sender is not in group {match.id}")
    if not ctx.trusted:
        return ask_to_confirm(ctx, person, command, match)
    if ctx.session.get_one(Round, match.round_id).closed_at is not None:
        _problem(ctx, person, "closed")
        return Decision("book-closed", f"group {match.id}: its round has closed")
    return person, match


def _book_option(ctx: Context, person: Participant, match: Match, picked: str | None) -> Decision:
    options = offered(match)
    start, problem = _start(options, picked, zone_of(person.time_zone, ctx.settings.tz), ctx.now)
    if start is None:
        if ctx.command is not None and ctx.command.said and problem == "no_day":
            return Decision("conversation", f"group {match.id} thread")
        _problem(ctx, person, problem, asked=picked or "", count=len(options), numbers=_numbers(options, picked, ctx))
        return Decision("book-refused", f"group {match.id}: {problem}")
    if match.booking_state == BOOKED and match.booked_start == start:
        _problem(ctx, person, "already", when=describe(start, ctx.settings.meetings.slot_minutes,
                                                       [zone_of(person.time_zone, ctx.settings.tz)]))
        return Decision("book-repeat", f"group {match.id}: already booked for that time")
    book_time(ctx.session, ctx.settings, match, start, person, ctx.now)
    return Decision("booked", f"group {match.id}: {start.isoformat()} (SEQUENCE {match.booking_sequence})")


def _start(options: list[datetime], picked: str | None, zone: ZoneInfo, now: datetime) -> tuple[datetime | None, str]:
    """The start `picked` names among `options`, or None and the problem's name."""
    if not options:
        return None, "no_options"
    if not picked:
        return None, "which"
    if picked.isdigit():
        index = int(picked) - 1
        if index >= len(options):
            return None, "no_such_option"
        return (options[index], "") if options[index] > now else (None, "past")
    hits = [s for s in options if s.astimezone(zone).strftime("%A") == picked and s > now]
    if len(hits) != 1:
        return None, "no_day" if not hits else "which_day"
    return hits[0], ""


def _numbers(options: list[datetime], picked: str | None, ctx: Context) -> str:
    """"1 or 3": the options that fall on the weekday someone named."""
    if not picked or picked.isdigit():
        return ""
    zone = zone_of(ctx.participant.time_zone, ctx.settings.tz) if ctx.participant else ctx.settings.tz
    found = [str(n) for n, s in enumerate(options, 1) if s.astimezone(zone).strftime("%A") == picked]
    return " or ".join(found)


def _problem(ctx: Context, to: Participant | str, problem: str, **context: object) -> bool:
    values = {"asked": "", "count": 0, "numbers": "", "when": "", **context}
    return answer(ctx, "participant/booking_problem", to, problem=problem, **values)
