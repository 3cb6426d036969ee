"""JOIN and CONFIRM: double opt-in, and confirmation of any request that needed one."""
from __future__ import annotations

import hmac
import json
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbound import lookups
from inbound.commands import Command
from inbound.context import Context, Decision, answer, audit, held_back, make_room
from inbound.tokens import new_token, sub_addresses
from inbound.untrusted import person_name, quotation
from mailer.outbox import enqueue, sent_today
from models import Match, Participant, Purpose, Status, Token
from models.rows import add_row

CONFIRM_DAYS = 7
KEPT_CHARS = 20_000  # of a command waiting to be confirmed: more than any field it can set keeps


def join(ctx: Context) -> Decision:
    person = ctx.participant
    if person is not None and person.status in (Status.ACTIVE, Status.PAUSED):
        answer(ctx, "participant/already_member", person)
        return Decision("already-member")
    if sent_today(ctx.session, ctx.mail.sender, ctx.now, kind="confirm"):
        return Decision("join-repeat", held_back(ctx, "a confirmation went to this address (or a +tag form of it) "
                                                      "in the last day"))
    make_room(ctx, person or ctx.mail.sender)
    return _send_confirmation(ctx, person or _new_participant(ctx))


def _new_participant(ctx: Context) -> Participant:
    person = Participant(
        email=ctx.mail.sender, name=person_name(ctx.mail.sender_name), status=Status.PENDING,
        reply_token=new_token(), campaign=_campaign(ctx), created_at=ctx.now, updated_at=ctx.now,
    )
    add_row(ctx.session, person)
    lookups.joined(ctx.session, person)
    ctx.__dict__["participant"] = person
    audit(ctx, person, "joined", "", f"campaign={person.campaign}" if person.campaign else "")
    return person


def _campaign(ctx: Context) -> str:
    """The tag of coffee+TAG@ that brought them, unless it is one of our tokens: someone who
    forwarded their introduction and a colleague replied JOIN to it came through no campaign."""
    for tag in sub_addresses(ctx.mail, ctx.settings.service.local_part, ctx.settings.service.domain):
        if not _is_our_token(ctx.session, tag.lower()):
            return tag[:64]
    return ""


def _is_our_token(session: Session, tag: str) -> bool:
    return any(session.scalar(select(column).where(column == tag).limit(1)) is not None
               for column in (Participant.reply_token, Match.token, Token.value))


def _send_confirmation(ctx: Context, person: Participant) -> Decision:
    """The status changes only on CONFIRM: anyone can send JOIN in someone else's name, and it must not
    undo a LEAVE or the suspension of an address that bounces."""
    token = issue_token(ctx, person, Purpose.JOIN)
    if person.status != Status.PENDING:
        audit(ctx, person, "rejoin-requested", person.status)
    enqueue(ctx.session, ctx.settings, template="participant/confirm", to=person, now=ctx.now, token=token.value,
            answering=ctx.confirming, context={"expires_days": CONFIRM_DAYS})
    return Decision("join-requested")


def issue_token(ctx: Context, person: Participant, purpose: str, payload: str = "") -> Token:
    token = Token(value=new_token(), purpose=purpose, participant_id=person.id, payload=payload, created_at=ctx.now,
                  expires_at=ctx.now + timedelta(days=CONFIRM_DAYS))
    return add_row(ctx.session, token)


def ask_to_confirm(ctx: Context, person: Participant, command: Command, match: Match | None = None) -> Decision:
    """A change we cannot tie to the address's owner: ask the real address first (and, for an outcome,
    remember which group it was about).

    The request quotes what we received only as a few plain words without links: it goes to the real
    person from our domain, and a forger chooses the words."""
    if sent_today(ctx.session, person.email, ctx.now, kind="confirm_command"):
        why = f"{command.name} unconfirmed, a confirmation went out today already"
        return Decision("confirm-limited", held_back(ctx, why))
    make_room(ctx, person)
    payload = json.dumps({"name": command.name, "args": command.args[:KEPT_CHARS], "body": command.body[:KEPT_CHARS],
                          "match": match.id if match else None})
    token = issue_token(ctx, person, Purpose.COMMAND, payload)
    enqueue(ctx.session, ctx.settings, template="participant/confirm_command", to=person, now=ctx.now,
            token=token.value, answering=ctx.confirming,
            context={"command": command.name, "quoted": quotation(command.args or command.body)})
    return Decision("confirm-requested", f"{command.name} needs confirming: no token of ours and not authenticated")


def confirm(ctx: Context, run: Callable[[Context], Decision]) -> Decision:
    """CONFIRM carrying one of our live tokens: sign-up, a held-back command, or FORGET."""
    token = _matching_token(ctx)
    if token is None:
        answer(ctx, "participant/confirm_needed", ctx.participant or ctx.mail.sender)
        return Decision("confirm-unmatched", "no valid confirmation token")
    if token.used_at is not None:
        return Decision("confirm-repeat", "this confirmation was already used")
    token.used_at = ctx.now
    person = token.participant
    if token.purpose == Purpose.JOIN:
        return _activate(ctx, person)
    if token.purpose == Purpose.FORGET:
        return run(ctx.confirmed_as(person, Command("FORGET", "confirmed")))
    stored = json.loads(token.payload)
    match = ctx.session.get(Match, stored["match"]) if stored.get("match") else None
    return run(ctx.confirmed_as(person, Command(stored["name"], stored["args"], stored["body"]), match))


def _activate(ctx: Context, person: Participant) -> Decision:
    old = person.status
    if old == Status.ACTIVE:
        return Decision("confirm-repeat", "already confirmed")
    person.status, person.confirmed_at, person.updated_at = Status.ACTIVE, ctx.now, ctx.now
    audit(ctx, person, "confirmed", old)
    enqueue(ctx.session, ctx.settings, template="participant/welcome", to=person, now=ctx.now, answering=ctx.answering,
            context={"trials": trial_arms(ctx.session, person, ctx.now)})
    return Decision("confirmed")


def trial_arms(session: Session, person: Participant, now: datetime) -> list[tuple[str, str]]:
    """Into each running trial (see trials.store.join_running): what it compares, and the arm they got."""
    from trials.store import join_running
    from trials.variables import VARIABLES

    return [(VARIABLES[variable].what, VARIABLES[variable].arms[arm].lower())
            for variable, arm in join_running(session, person, now)]


def _matching_token(ctx: Context) -> Token | None:
    """A live token of ours that this reply carries (the token, not the From header, is the proof)."""
    for candidate in ctx.tokens:
        token = ctx.session.scalar(select(Token).where(Token.value == candidate))
        if token and hmac.compare_digest(token.value, candidate) and token.expires_at > ctx.now:
            return token
    return None
