"""What every command handler gets (the message, the session, the clock) and the helpers they share."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from config import Settings
from inbound import lookups
from inbound.commands import Command
from inbound.parse import Parsed, message_ids
from inbound.trust import authenticated, dmarc_failed
from mailer.outbox import Answering, enqueue, group_subject, sent_today, strangers_answered
from models import AuditEvent, InboundMessage, Match, MatchMember, Participant, Status
from models.rows import insert_row
from wording import plural

_GROUP = select(Match).where(Match.token.in_(bindparam("tokens", expanding=True))).limit(1)

CAPPED = "not answered: this address already had today's share of answers (service.max_auto_replies_per_day)"


def parent(record: InboundMessage, mail: Parsed, subject: str = "") -> Answering:
    """A received message as the parent of our answer, which joins its thread (RFC 5322 References)."""
    return Answering(record=record, references=message_ids(mail.headers.get("references", "")),
                     in_reply_to=message_ids(mail.headers.get("in-reply-to", "")), subject=subject)


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""


@dataclass(frozen=True)
class Context:
    session: Session
    settings: Settings
    mail: Parsed
    record: InboundMessage
    command: Command | None
    tokens: list[str]
    kinds: list[str]
    now: datetime
    match: Match | None = None  # the group this reply is about, from a group token it carries (group_for)
    confirmed: bool = False

    @cached_property
    def participant(self) -> Participant | None:
        return lookups.sender(self.session, self.mail.sender)

    @cached_property
    def trusted(self) -> bool:
        """The sender proved they own the address: our token for them, DKIM/DMARC from our server, or a CONFIRM.

        A group's token proves its sender is one of the group ("Too busy? Reply PAUSE" is in the
        introduction), unless our server says the From address failed DMARC: every member holds the
        token, and one must not write as another."""
        person = self.participant
        if self.confirmed or (person is not None and person.reply_token in self.tokens):
            return True
        if self._in_its_group(person):
            return not dmarc_failed(self.mail.auth_results, self.mail.sender, self.settings.service.trusted_authserv_id)
        return authenticated(self.mail.auth_results, self.mail.sender, self.settings.service.trusted_authserv_id)

    @cached_property
    def answering(self) -> Answering:
        """This message as the parent of our answer: answers join its thread, and in a group's thread
        keep the group's subject (Gmail starts a new conversation when the subject changes)."""
        subject = group_subject(self.session, self.match.intro_message_id) if self.match else ""
        return parent(self.record, self.mail, subject)

    @property
    def confirming(self) -> Answering:
        """This message as the parent of a request to confirm: in its thread, under a subject of its own
        ("Please confirm: PAUSE"), which must stand out in the inbox of the address that is asked."""
        return replace(self.answering, subject="")

    def _in_its_group(self, person: Participant | None) -> bool:
        """Whether this reply's group token vouches for its sender: they are one of the group."""
        return person is not None and self.match is not None and person.id in {m.participant_id for m in self.match.members}

    def confirmed_as(self, person: Participant, command: Command, match: Match | None = None) -> Context:
        """This context re-run for a command that `person` has just confirmed (about `match`, if it named a group)."""
        fresh = replace(self, command=command, confirmed=True, match=match)
        fresh.__dict__["participant"] = person
        return fresh


def group_for(session: Session, tokens: list[str]) -> Match | None:
    if not tokens:
        return None
    return session.scalar(_GROUP, {"tokens": tokens})


def audit(ctx: Context, person: Participant, action: str, old: str, detail: str = "") -> None:
    insert_row(ctx.session, AuditEvent(
        at=ctx.now, participant_id=person.id, action=action, old_status=old, new_status=person.status,
        source="email", inbound_id=ctx.record.id, detail=detail,
    ))


class HeldBack(Exception):
    """The hourly cap on answers to people not taking part is reached: the message waits in quarantine."""


def make_room(ctx: Context, to: Participant | str) -> None:
    """Raise HeldBack when `to` is not taking part (no participant, or not confirmed) and the hourly cap
    on answers to such people is reached. Forged JOINs cost nothing to send; without the cap a few hundred
    would use the day's sending quota. Call it before changing anything: the message is retried whole."""
    if isinstance(to, Participant) and to.status != Status.PENDING:
        return
    cap = ctx.settings.service.stranger_answers_per_hour
    if strangers_answered(ctx.session, ctx.now) >= cap:
        raise HeldBack(f"held back: {plural(cap, 'answer')} to people not taking part went out in the last hour "
                       "(service.stranger_answers_per_hour); if this one is genuine, `unmentoring quarantine "
                       "retry ID` once the flood is over")


def answer(ctx: Context, template: str, to: Participant | str, token: str | None = None, **context: object) -> bool:
    """Queue an answer unless this address (in any +tag form) already had its share today (no loops, no
    spam; a held-back answer is marked on the message's record, so the organiser sees how often only the
    cap stopped one); to someone not taking part, only within the hourly cap (make_room)."""
    email = to.email if isinstance(to, Participant) else to
    if sent_today(ctx.session, email, ctx.now) >= ctx.settings.service.max_auto_replies_per_day:
        held_back(ctx, "")
        return False
    make_room(ctx, to)
    enqueue(ctx.session, ctx.settings, template=template, to=to, now=ctx.now, answering=ctx.answering, token=token,
            context=context)
    return True


def held_back(ctx: Context, why: str) -> str:
    """Mark that only a daily limit kept this message from an answer (counted in `status`, where a
    robot we do not recognise shows up) and say so for the record."""
    ctx.record.capped = True
    return f"not answered: {why}"


def latest_match(session: Session, person: Participant) -> Match | None:
    query = select(Match).join(MatchMember).where(MatchMember.participant_id == person.id)
    return session.scalar(query.order_by(Match.id.desc()).limit(1))
