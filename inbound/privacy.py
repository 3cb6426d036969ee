"""MYDATA (send me what you hold) and FORGET (erase me, after a confirmation).

Erasure keeps what the statistics need and nothing that identifies the
person: their groups and whether those met stay, as an anonymous member.
"""
from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from inbound.context import Context, Decision, answer, audit
from inbound.profile import profile_lines
from inbound.signup import issue_token
from inbound.tokens import new_token
from mailer.outbox import enqueue
from models import (InboundMessage, Match, MatchMember, OutboundMessage, Outcome, OutStatus, Participant, Purpose,
                    Round, Share, Status, Token)
from rounds.history import match_outcomes


def mydata(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None:
        answer(ctx, "participant/not_a_member", ctx.mail.sender, command="MYDATA", no_group_yet=False)
        return Decision("mydata-unknown", "we hold nothing for this address")
    answer(ctx, "participant/mydata", person, **held_about(ctx.session, person))
    return Decision("mydata-sent")


def held_about(session: Session, person: Participant) -> dict[str, object]:
    outcomes = match_outcomes(session)
    history = []
    query = select(Match, Round.number).join(MatchMember).join(Round).where(MatchMember.participant_id == person.id)
    for match, number in session.execute(query.order_by(Round.number)):
        others = [session.get_one(Participant, m.participant_id) for m in match.members if m.participant_id != person.id]
        result = {True: "met", False: "did not meet"}.get(outcomes.get(match.id), "no report")
        history.append(f"Round {number}: {' and '.join(o.name or o.email for o in others)} ({result})")
    shares = [s.text for s in session.scalars(select(Share).where(Share.participant_id == person.id))]
    received = session.scalar(select(InboundMessage.id).where(InboundMessage.participant_id == person.id).limit(1))
    return {
        "profile": profile_lines(person), "status": str(person.status), "email": person.email,
        "joined": person.created_at.strftime("%-d %B %Y"), "campaign": person.campaign, "history": history,
        "shares": shares, "has_messages": received is not None,
    }


def forget(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None:
        return Decision("forget-unknown", "we hold nothing for this address")
    if not ctx.confirmed:
        token = issue_token(ctx, person, Purpose.FORGET)
        enqueue(ctx.session, ctx.settings, template="participant/forget_confirm", to=person, now=ctx.now,
                token=token.value, answering=ctx.record)
        return Decision("forget-requested", "asked to confirm")
    enqueue(ctx.session, ctx.settings, template="participant/forgotten", to=person, now=ctx.now,
            answering=ctx.record)
    old = person.status
    erase(ctx.session, person)
    ctx.record.sender, ctx.record.subject = "", ""
    audit(ctx, person, "forgotten", old)
    return Decision("forgotten")


def erase(session: Session, person: Participant) -> None:
    """Remove everything that identifies `person`; the queued goodbye is scrubbed once sent."""
    email = person.email
    session.execute(update(InboundMessage).where(InboundMessage.participant_id == person.id)
                    .values(sender="", subject=""))
    session.execute(update(Outcome).where(Outcome.participant_id == person.id).values(reason=""))
    session.execute(delete(Share).where(Share.participant_id == person.id))
    session.execute(delete(Token).where(Token.participant_id == person.id))
    mentions = or_(OutboundMessage.participant_id == person.id, OutboundMessage.recipients.contains(email))
    waiting = OutboundMessage.status.in_([OutStatus.QUEUED, OutStatus.SENDING])
    goodbye = (OutboundMessage.kind == "forgotten") & waiting
    session.execute(update(OutboundMessage).where(mentions, ~goodbye, waiting)
                    .values(status=OutStatus.FAILED, last_error="a recipient asked to be forgotten"))
    session.execute(update(OutboundMessage).where(mentions, ~goodbye)
                    .values(raw=b"", recipients="", subject="", accepted="", rejected=""))
    for field in ("name", "organisation", "role", "phone", "video", "links", "bio"):
        setattr(person, field, "")
    person.email = f"forgotten-{person.id}@invalid"
    person.status, person.reply_token, person.paused_until = Status.LEFT, new_token(), None
