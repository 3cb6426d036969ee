"""One small function per command: change state through the session, enqueue the answer.

Adding a command touches one place: write a handler and add it to COMMANDS.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from inbound.commands import Command
from inbound.parse import Parsed
from inbound.reasons import reason_group
from inbound.tokens import new_token, sub_addresses
from mailer.compose import clean_header_text
from mailer.outbox import enqueue, sent_today
from models import AuditEvent, InboundMessage, Match, MatchMember, Outcome, Participant, Purpose, Status, Token

CONFIRM_DAYS = 7


@dataclass
class Context:
    session: Session
    settings: Settings
    mail: Parsed
    record: InboundMessage
    command: Command | None
    tokens: list[str]
    now: datetime
    kinds: list[str]

    @property
    def participant(self) -> Participant | None:
        return self.session.scalar(select(Participant).where(Participant.email == self.mail.sender))

    @property
    def match(self) -> Match | None:
        """The group this reply is about, from a group token it carries."""
        if not self.tokens:
            return None
        return self.session.scalar(select(Match).where(Match.token.in_(self.tokens)).limit(1))


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""


def audit(ctx: Context, person: Participant, action: str, old: str, detail: str = "") -> None:
    ctx.session.add(AuditEvent(
        at=ctx.now, participant_id=person.id, action=action, old_status=old, new_status=person.status,
        source="email", inbound_id=ctx.record.id, detail=detail,
    ))


def answer(ctx: Context, template: str, to: Participant | str, **context: object) -> bool:
    """Queue an answer unless this address already had its share today (no loops, no spam)."""
    email = to.email if isinstance(to, Participant) else to
    if sent_today(ctx.session, email, ctx.now) >= ctx.settings.service.max_auto_replies_per_day:
        return False
    enqueue(ctx.session, ctx.settings, template=template, to=to, now=ctx.now, answering=ctx.record, context=context)
    return True


def join(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None:
        person = _new_participant(ctx)
        return _send_confirmation(ctx, person, "join-requested")
    if person.status in (Status.ACTIVE, Status.PAUSED):
        sent = answer(ctx, "participant/already_member", person)
        return Decision("already-member", "" if sent else "answer limit reached for today")
    if person.status == Status.PENDING and sent_today(ctx.session, person.email, ctx.now, kind="confirm"):
        return Decision("join-repeat", "a confirmation went to this address in the last day")
    return _send_confirmation(ctx, person, "join-requested")


def _new_participant(ctx: Context) -> Participant:
    tags = sub_addresses(ctx.mail, ctx.settings.service.local_part, ctx.settings.service.domain)
    person = Participant(
        email=ctx.mail.sender, name=clean_header_text(ctx.mail.sender_name)[:200], status=Status.PENDING,
        reply_token=new_token(), campaign=(tags[0][:64] if tags else ""), created_at=ctx.now, updated_at=ctx.now,
    )
    ctx.session.add(person)
    ctx.session.flush()
    audit(ctx, person, "joined", "", f"campaign={person.campaign}" if person.campaign else "")
    return person


def _send_confirmation(ctx: Context, person: Participant, action: str) -> Decision:
    old = person.status
    person.status = Status.PENDING
    token = Token(value=new_token(), purpose=Purpose.JOIN, participant=person, created_at=ctx.now,
                  expires_at=ctx.now + timedelta(days=CONFIRM_DAYS))
    ctx.session.add(token)
    if old != Status.PENDING:
        audit(ctx, person, "rejoin-requested", old)
    enqueue(ctx.session, ctx.settings, template="participant/confirm", to=person, now=ctx.now, token=token.value,
            answering=ctx.record, context={"expires_days": CONFIRM_DAYS})
    return Decision(action)


def confirm(ctx: Context) -> Decision:
    token = _matching_token(ctx, Purpose.JOIN)
    if token is None:
        sent = answer(ctx, "participant/confirm_needed", ctx.participant or ctx.mail.sender)
        return Decision("confirm-unmatched", "no valid confirmation token" + ("" if sent else "; not answered"))
    person, old = token.participant, token.participant.status
    if token.used_at is not None or old == Status.ACTIVE:
        token.used_at = token.used_at or ctx.now
        return Decision("confirm-repeat", "already confirmed")
    token.used_at = ctx.now
    person.status, person.confirmed_at, person.updated_at = Status.ACTIVE, ctx.now, ctx.now
    audit(ctx, person, "confirmed", old)
    enqueue(ctx.session, ctx.settings, template="participant/welcome", to=person, now=ctx.now, answering=ctx.record)
    return Decision("confirmed")


def _matching_token(ctx: Context, purpose: str) -> Token | None:
    """A live token of ours that this reply carries (the token, not the From header, is the proof)."""
    for candidate in ctx.tokens:
        token = ctx.session.scalar(select(Token).where(Token.value == candidate, Token.purpose == purpose))
        if token and hmac.compare_digest(token.value, candidate) and token.expires_at > ctx.now:
            return token
    return None


def met(ctx: Context) -> Decision:
    return _report(ctx, met=True)


def not_met(ctx: Context) -> Decision:
    return _report(ctx, met=False)


def _report(ctx: Context, met: bool) -> Decision:
    """Record a member's MET / NOT MET for their group; the latest report counts."""
    person = ctx.participant
    match = ctx.match or (_latest_match(ctx, person) if person else None)
    if person is None or match is None:
        sent = answer(ctx, "participant/help", person or ctx.mail.sender, not_understood=True)
        return Decision("outcome-unmatched", "no group found for this sender" + ("" if sent else "; not answered"))
    if person.id not in {m.participant_id for m in match.members}:
        return Decision("outcome-not-member", f"sender is not in group {match.id}")
    reason = clean_header_text(ctx.command.args if ctx.command else "")[:500] if not met else ""
    ctx.session.add(Outcome(match_id=match.id, participant_id=person.id, met=met, reason=reason,
                            reason_group=reason_group(reason), reported_at=ctx.now, inbound_id=ctx.record.id))
    others = [ctx.session.get_one(Participant, m.participant_id) for m in match.members if m.participant_id != person.id]
    answer(ctx, "participant/outcome_thanks", person, met=met, reason=reason,
           others=" and ".join(o.name or o.email for o in others))
    return Decision("met" if met else "not-met", f"group {match.id}")


def _latest_match(ctx: Context, person: Participant) -> Match | None:
    query = select(Match).join(MatchMember).where(MatchMember.participant_id == person.id)
    return ctx.session.scalar(query.order_by(Match.id.desc()).limit(1))


def help_(ctx: Context) -> Decision:
    sent = answer(ctx, "participant/help", ctx.participant or ctx.mail.sender, not_understood=False)
    return Decision("help-sent" if sent else "help-limited")


def not_understood(ctx: Context) -> Decision:
    """One friendly answer a day at most: a second confused mail (or a robot we missed) gets silence.

    Conversation in a group's thread (people arranging their coffee with us in
    copy) is expected and never answered.
    """
    if ctx.match is not None:
        return Decision("conversation", f"group {ctx.match.id} thread")
    if "still_in" in ctx.kinds and ctx.participant is not None:
        return Decision("still-in", "replied to the still-in question")
    if sent_today(ctx.session, ctx.mail.sender, ctx.now, kind="help"):
        return Decision("not-understood", "already answered today")
    answer(ctx, "participant/help", ctx.participant or ctx.mail.sender, not_understood=True)
    return Decision("not-understood", "sent the list of commands")


COMMANDS: dict[str, Callable[[Context], Decision]] = {
    "JOIN": join,
    "CONFIRM": confirm,
    "HELP": help_,
    "MET": met,
    "NOT MET": not_met,
}


def dispatch(ctx: Context) -> Decision:
    handler = COMMANDS.get(ctx.command.name) if ctx.command else None
    return (handler or not_understood)(ctx)

