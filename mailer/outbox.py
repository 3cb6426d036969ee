"""Queue an email in the outbox, in the caller's transaction (business code never sends)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from config import Settings
from mailer.compose import Attachment, Envelope, address, compose, new_message_id
from mailer.render import Rendered, render
from mailer.threads import references, reply_subject
from models import InboundMessage, OutboundMessage, Participant, Status
from models.rows import add_row, scalar

GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def sub_address(settings: Settings, tag: str) -> str:
    return f"{settings.service.local_part}+{tag}@{settings.service.domain}"


def base_context(settings: Settings) -> dict[str, Any]:
    return {"service_name": settings.service.name, "organiser": settings.service.organiser}


@dataclass(frozen=True)
class Answering:
    """The message an email answers, as far as threading needs it: its record, the References and
    In-Reply-To it carried, and the thread's subject when it is a group's (else the answer keeps its own)."""

    record: InboundMessage
    references: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    subject: str = ""


def group_subject(session: Session, intro_message_id: str) -> str:
    """The subject every email about a group carries: `Re: <its introduction's subject>` ("" when the
    introduction's copy is gone, and the template's own subject stands)."""
    subject = session.scalar(select(OutboundMessage.subject).where(
        OutboundMessage.message_id == intro_message_id, OutboundMessage.subject != "").limit(1)) \
        if intro_message_id else None
    return reply_subject(subject) if subject else ""


def enqueue(
    session: Session,
    settings: Settings,
    *,
    template: str,
    to: Participant | str,
    now: datetime,
    token: str | None = None,
    context: dict[str, Any] | None = None,
    answering: Answering | None = None,
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> OutboundMessage:
    """Render `template` for a participant (or a bare address) and add it to the outbox.

    `token` (default: the participant's reply token) goes into Reply-To and the
    Message-ID; `answering` makes the email a reply to that inbound message, in its thread. An answer to
    someone not taking part (no participant, or not confirmed; never the organiser) counts against the
    hourly cap on answers to strangers.
    """
    person = to if isinstance(to, Participant) else None
    email, name = (person.email, person.name) if person else (to, "")
    stranger = answering is not None and (person.status == Status.PENDING if person else email != settings.service.organiser)
    token = token or (person.reply_token if person else None)
    thread = references(answering.record.message_id, answering.references, answering.in_reply_to) if answering else []
    return _queue(
        session, settings, template=template, now=now, token=token, recipients=[(email, name)],
        context={"name": person.greeting_name if person else "", "full_name": name, **(context or {})},
        thread=thread, subject=answering.subject if answering else "", auto="auto-replied" if answering else "auto-generated",
        reply_to=[sub_address(settings, token) if token else settings.service.address],
        unsubscribe=sub_address(settings, person.reply_token) if person else "",
        participant_id=person.id if person else None, in_reply_to=answering.record.id if answering else None,
        dedupe_key=dedupe_key,
        mail_from=sub_address(settings, f"b-{person.reply_token}") if person and settings.smtp.verp else None,
        attachments=attachments, stranger=stranger,
    )


def enqueue_group(
    session: Session,
    settings: Settings,
    *,
    template: str,
    members: Sequence[Participant],
    token: str,
    now: datetime,
    context: dict[str, Any],
    thread: str | None = None,
    dedupe_key: str | None = None,
) -> list[OutboundMessage]:
    """One email to everyone in a group. Reply-To names the group's address and every member,
    so "reply" and "reply all" both reach the others and tell us the outcome. `thread`: the
    introduction's Message-ID, which later emails answer and whose subject they keep.

    Each member gets a copy of their own, addressed to them all and with the same Message-ID (so
    replies thread alike for everyone, as a mailing list's personalised copies do), but with a
    List-Unsubscribe for that member's own token: the big providers expect it on subscribed mail."""
    message_id = new_message_id(template.rpartition("/")[2], token, settings.service.domain)
    rendered = render(template, {**base_context(settings), **context}, settings.templates_path)
    subject = group_subject(session, thread) if thread else ""
    everyone = [(m.email, m.name) for m in members]
    return [_queue(
        session, settings, template=template, now=now, token=token, recipients=everyone, deliver_to=m.email,
        message_id=message_id, context=context, rendered=rendered, thread=[thread] if thread else [], subject=subject,
        auto="auto-generated", reply_to=[sub_address(settings, token)] + [m.email for m in members],
        unsubscribe=sub_address(settings, m.reply_token), participant_id=m.id, in_reply_to=None,
        dedupe_key=f"{dedupe_key}:{m.id}" if dedupe_key else None,
        mail_from=sub_address(settings, f"b-{m.reply_token}") if settings.smtp.verp else None,
    ) for m in members]


def _queue(
    session: Session, settings: Settings, *, template: str, now: datetime, token: str | None,
    recipients: list[tuple[str, str]], context: dict[str, Any], thread: list[str], subject: str, auto: str,
    reply_to: list[str], unsubscribe: str, participant_id: int | None, in_reply_to: int | None,
    dedupe_key: str | None, mail_from: str | None, attachments: Sequence[Attachment] = (), stranger: bool = False,
    deliver_to: str = "", message_id: str = "", rendered: Rendered | None = None,
) -> OutboundMessage:
    """`deliver_to`: the one address this copy goes to, when the header names more (a group's copies,
    which share one `rendered` text)."""
    kind = template.rpartition("/")[2]
    rendered = rendered or render(template, {**base_context(settings), **context}, settings.templates_path)
    if subject:
        rendered = replace(rendered, subject=subject)
    message_id = message_id or new_message_id(kind, token, settings.service.domain)
    envelope = Envelope(
        sender=address(settings.service.address, settings.service.name),
        to=[address(email, name) for email, name in recipients],
        reply_to=[address(reply_to[0], settings.service.name)] + [address(a) for a in reply_to[1:]],
        message_id=message_id, date=now, loop_id=settings.service.domain, auto_submitted=auto,
        unsubscribe=unsubscribe, in_reply_to=thread[-1] if thread else None, references=thread,
        unsubscribe_url=_one_click(settings, unsubscribe), attachments=list(attachments),
    )
    row = OutboundMessage(
        message_id=message_id, dedupe_key=dedupe_key, kind=kind, mail_from=mail_from or settings.service.address,
        recipients=deliver_to or "\n".join(email for email, _ in recipients), subject=rendered.subject,
        stranger=stranger, rate_key=rate_key(recipients[0][0]) if len(recipients) == 1 else "",
        raw=compose(rendered, envelope), participant_id=participant_id, token=token,
        in_reply_to=in_reply_to, next_try_at=now, created_at=now,
    )
    return add_row(session, row)


def _one_click(settings: Settings, unsubscribe: str) -> str:
    """The one-click URL for this recipient, when the organiser runs an HTTPS endpoint for it."""
    if not (settings.service.unsubscribe_url and unsubscribe):
        return ""
    token = unsubscribe.split("@")[0].partition("+")[2]
    return settings.service.unsubscribe_url.replace("{token}", token)


def rate_key(email: str) -> str:
    """The address answer limits count under: lower case, without a +tag (Gmail: without dots too), so
    sam+1@, sam+2@ ... share one limit. Only for counting; participants keep the address they gave."""
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


_RECENT = (OutboundMessage.rate_key == bindparam("rate_key"), OutboundMessage.created_at > bindparam("since"))
_SENT_TODAY = {
    True: select(func.count(OutboundMessage.id)).where(*_RECENT, OutboundMessage.kind == bindparam("kind")),
    False: select(func.count(OutboundMessage.id)).where(*_RECENT, OutboundMessage.in_reply_to.is_not(None)),
}
_STRANGERS = select(func.count(OutboundMessage.id)).where(
    OutboundMessage.stranger.is_(True), OutboundMessage.created_at > bindparam("since"))


def sent_today(session: Session, email: str, now: datetime, kind: str | None = None) -> int:
    """How many answers (of one kind, or any) went to this address, in any +tag form, in the last 24 hours:
    the loop breaker. (Outbox rows are written at once, never left pending: the count needs no flush.)"""
    since = now - timedelta(days=1)
    if kind:
        return scalar(session, _SENT_TODAY[True], rate_key=rate_key(email), since=since, kind=kind)
    return scalar(session, _SENT_TODAY[False], rate_key=rate_key(email), since=since)


def strangers_answered(session: Session, now: datetime) -> int:
    """Answers queued in the last hour to people not taking part (no participant, or not yet confirmed)."""
    return scalar(session, _STRANGERS, since=now - timedelta(hours=1))
