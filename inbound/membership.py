"""SKIP, PAUSE, RESUME and LEAVE: a participant changing how they take part."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from inbound.context import Context, Decision, answer, audit
from inbound.pausing import parse_pause
from inbound.signup import ask_to_confirm
from meetings.booking import drop_member
from models import Participant, Status
from rounds.lifecycle import next_open_time


def skip(ctx: Context) -> Decision:
    person = _member(ctx)
    if person is None:
        return _not_signed_up(ctx)
    person.skip_next = True
    audit(ctx, person, "skip-next", person.status)
    answer(ctx, "participant/skipping", person, when=_next_round_text(ctx))
    return Decision("skip")


def pause(ctx: Context) -> Decision:
    person = _member(ctx)
    if person is None:
        return _not_signed_up(ctx)
    request = parse_pause(ctx.command.args if ctx.command else "", ctx.now.astimezone(ctx.settings.tz).date())
    if request is None:
        answer(ctx, "participant/pause_unclear", person, words=ctx.command.args if ctx.command else "")
        return Decision("pause-unclear", f"could not read {ctx.command.args if ctx.command else ''!r}")
    until = _pause_end(ctx, request.rounds, request.until)
    old = person.status
    person.status, person.paused_until, person.updated_at = Status.PAUSED, until, ctx.now
    audit(ctx, person, "paused", old, f"until {until.isoformat()}" if until else "until RESUME")
    when = until.astimezone(ctx.settings.tz).strftime("%-d %B %Y") if until else ""
    answer(ctx, "participant/paused", person, when=when)
    return Decision("paused")


def _pause_end(ctx: Context, rounds: int | None, until: date | None) -> datetime | None:
    if until is not None:
        return datetime.combine(until, time(0), tzinfo=ctx.settings.tz)
    if rounds is None:
        return None
    moment: datetime | None = ctx.now
    for _ in range(rounds + 1):
        moment = next_open_time(ctx.session, ctx.settings, after=moment) if moment else None
    return moment


def resume(ctx: Context) -> Decision:
    person = _member(ctx)
    if person is None:
        return _not_signed_up(ctx)
    if person.status == Status.ACTIVE and not person.skip_next:
        answer(ctx, "participant/already_member", person)
        return Decision("resume-noop", "already active")
    old = person.status
    person.status, person.paused_until, person.skip_next, person.updated_at = Status.ACTIVE, None, False, ctx.now
    audit(ctx, person, "resumed", old)
    answer(ctx, "participant/resumed", person, when=_next_round_text(ctx))
    return Decision("resumed")


def leave(ctx: Context) -> Decision:
    person = _member(ctx)
    if person is None:
        owner = _token_owner(ctx)
        if owner is not None and ctx.command is not None:
            return ask_to_confirm(ctx, owner, ctx.command)
        return Decision("leave-unknown", "not a participant; nothing to do")
    old = person.status
    drop_member(ctx.session, ctx.settings, person, ctx.now)
    person.status, person.paused_until, person.updated_at = Status.LEFT, None, ctx.now
    audit(ctx, person, "left", old)
    answer(ctx, "participant/left", person)
    return Decision("left")


def _member(ctx: Context) -> Participant | None:
    return ctx.participant if _taking_part(ctx.participant) else None


def _taking_part(person: Participant | None) -> bool:
    return person is not None and person.status not in (Status.PENDING, Status.LEFT)


def _token_owner(ctx: Context) -> Participant | None:
    """Whose own token LEAVE from an address we do not know carries: their mail client's unsubscribe
    (Gmail writes it from the account their work mail is forwarded to), an alias, or a colleague
    answering a reply they were copied on. The owner is asked to confirm, at their own address."""
    if ctx.participant is not None or not ctx.tokens:
        return None
    person = ctx.session.scalar(select(Participant).where(Participant.reply_token.in_(ctx.tokens)).limit(1))
    return person if _taking_part(person) else None


def _not_signed_up(ctx: Context) -> Decision:
    answer(ctx, "participant/not_a_member", ctx.participant or ctx.mail.sender,
           command=ctx.command.name if ctx.command else "email", no_group_yet=False)
    return Decision("not-a-member", f"{ctx.command.name if ctx.command else 'command'} from someone not taking part")


def _next_round_text(ctx: Context) -> str:
    opening = next_open_time(ctx.session, ctx.settings)
    return opening.astimezone(ctx.settings.tz).strftime("%-d %B") if opening else "when the next round opens"
