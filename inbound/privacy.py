"""MYDATA (send me what you hold, gathered by inbound.held) and FORGET (erase me, after a confirmation).

Erasure (models.erasure) keeps what the statistics need and nothing that identifies the
person: their groups and whether those met stay, as an anonymous member.
"""
from __future__ import annotations

from inbound.context import Context, Decision, answer, audit
from inbound.held import held_about
from inbound.signup import issue_token
from inbound.tokens import new_token
from mailer.outbox import enqueue
from meetings.booking import drop_member
from models import Purpose
from models.erasure import forget as erase


def mydata(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None:
        answer(ctx, "participant/not_a_member", ctx.mail.sender, command="MYDATA", no_group_yet=False)
        return Decision("mydata-unknown", "we hold nothing for this address")
    answer(ctx, "participant/mydata", person, **held_about(ctx.session, person, ctx.settings.tz, ctx.record.id))
    return Decision("mydata-sent")


def forget(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None:
        return Decision("forget-unknown", "we hold nothing for this address")
    if not ctx.confirmed:
        token = issue_token(ctx, person, Purpose.FORGET)
        enqueue(ctx.session, ctx.settings, template="participant/forget_confirm", to=person, now=ctx.now,
                token=token.value, answering=ctx.confirming)
        return Decision("forget-requested", "asked to confirm")
    goodbye = enqueue(ctx.session, ctx.settings, template="participant/forgotten", to=person, now=ctx.now,
                      answering=ctx.answering)
    old = person.status
    uninvited = drop_member(ctx.session, ctx.settings, person, ctx.now, named=False)
    erase(ctx.session, person, spare=(goodbye, *uninvited))
    person.reply_token = new_token()
    audit(ctx, person, "forgotten", old)
    return Decision("forgotten")
