"""Queue an email in the outbox, in the caller's transaction (business code never sends)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from config import Settings
from mailer import answer_counts
from mailer.compose import Attachment, CalendarPart, Envelope, address, compose, compose_copies, new_message_id
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
    personal: dict[int, dict[str, Any]] | None = None,
) -> list[OutboundMessage]:
    """One email to everyone in a group. Reply-To names the group's address and every member,
    so "reply" and "reply all" both reach the others and tell us the outcome. `thread`: the
    introduction's Message-ID, which later emails answer and whose subject they keep.

    Each member gets a copy of their own, addressed to them all and with the same Message-ID (so
    replies thread alike for everyone, as a mailing list's personalised copies do), but with a
    List-Unsubscribe for that member's own token: the big providers expect it on subscribed mail.
    `personal`: more context for each member's own copy, by participant id (times in their own time zone)."""
    subject = group_subject(session, thread) if thread else ""
    rows = [OutboundMessage(**values) for values in group_copies(
        settings, template=template, members=members, token=token, now=now, context=context, thread=thread,
        subject=subject, dedupe_key=dedupe_key, personal=personal)]
    session.add_all(rows)
    answer_counts.written(session, rows)
    return rows


def group_copies(
    settings: Settings, *, template: str, members: Sequence[Participant], token: str, now: datetime,
    context: dict[str, Any], message_id: str = "", thread: str | None = None, subject: str = "",
    dedupe_key: str | None = None, personal: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows (as column values) of `enqueue_group`'s copies, built without the database:
    the text rendered once for members whose own part is alike (`personal`: the same time zone), and
    composed once, then a copy per member with its own List-Unsubscribe (`compose_copies`).
    `subject`: the thread's, if any."""
    kind = template.rpartition("/")[2]
    message_id = message_id or new_message_id(kind, token, settings.service.domain)
    envelope = _envelope(settings, recipients=[(m.email, m.name) for m in members], message_id=message_id, now=now,
                         reply_to=[sub_address(settings, token)] + [m.email for m in members],
                         auto="auto-generated", unsubscribe="", thread=[thread] if thread else [])
    alike: dict[str, list[Participant]] = {}
    for m in members:
        alike.setdefault(repr((personal or {}).get(m.id, {})), []).append(m)
    written: dict[int, tuple[bytes, str]] = {}
    for readers in alike.values():
        extra = (personal or {}).get(readers[0].id, {})
        rendered = render(template, {**base_context(settings), **context, **extra}, settings.templates_path)
        if subject:
            rendered = replace(rendered, subject=subject)
        unsubscribes = [sub_address(settings, m.reply_token) for m in readers]
        raws = compose_copies(rendered, envelope, [(u, _one_click(settings, u)) for u in unsubscribes])
        written.update((m.id, (raw, rendered.subject)) for m, raw in zip(readers, raws))
    return [dict(
        message_id=message_id, dedupe_key=f"{dedupe_key}:{m.id}" if dedupe_key else None, kind=kind,
        mail_from=sub_address(settings, f"b-{m.reply_token}") if settings.smtp.verp else settings.service.address,
        recipients=m.email, subject=written[m.id][1], stranger=False,
        rate_key=rate_key(m.email) if len(members) == 1 else "", raw=written[m.id][0], participant_id=m.id,
        token=token, in_reply_to=None, next_try_at=now, created_at=now,
    ) for m in members]


def enqueue_invitation(
    session: Session,
    settings: Settings,
    *,
    member: Participant,
    members: Sequence[Participant],
    token: str,
    now: datetime,
    context: dict[str, Any],
    calendar: CalendarPart,
    thread: str | None,
    dedupe_key: str,
    message_id: str = "",
    template: str = "participant/invitation",
) -> OutboundMessage:
    """One member's own copy of a group's calendar invitation (or its update or cancellation).

    One email per attendee, as iMIP guides advise, each with the time in the reader's own zone; it
    comes From the service, which is the ORGANIZER, so Accept/Decline come back to us. Reply-To is the
    group's, as on every group email: "3" written in answer to it moves the meeting for everyone.
    It keeps its own subject ("Invitation: ...", as calendar mail does) but threads under the introduction.
    The copies of one invitation share `message_id`, as a group email's do: erasing a member then finds
    (and empties) every copy that names them."""
    return _queue(
        session, settings, template=template, now=now, token=token,
        recipients=[(member.email, member.name)],
        context={"name": member.greeting_name, "full_name": member.name, **context},
        thread=[thread] if thread else [], subject="", auto="auto-generated",
        reply_to=[sub_address(settings, token)] + [m.email for m in members],
        unsubscribe=sub_address(settings, member.reply_token), participant_id=member.id, in_reply_to=None,
        dedupe_key=dedupe_key, calendar=calendar, message_id=message_id,
        mail_from=sub_address(settings, f"b-{member.reply_token}") if settings.smtp.verp else None,
    )


def _queue(session: Session, settings: Settings, **kwargs: Any) -> OutboundMessage:
    """One email written to the outbox now (models.rows.add_row: one INSERT, no flush), kept in the session."""
    row = add_row(session, OutboundMessage(**_values(settings, **kwargs)))
    answer_counts.written(session, [row])
    return row


def _values(
    settings: Settings, *, template: str, now: datetime, token: str | None,
    recipients: list[tuple[str, str]], context: dict[str, Any], thread: list[str], subject: str, auto: str,
    reply_to: list[str], unsubscribe: str, participant_id: int | None, in_reply_to: int | None,
    dedupe_key: str | None, mail_from: str | None, attachments: Sequence[Attachment] = (), stranger: bool = False,
    deliver_to: str = "", message_id: str = "", rendered: Rendered | None = None, calendar: CalendarPart | None = None,
) -> dict[str, Any]:
    """`deliver_to`: the one address this copy goes to, when the header names more (a group's copies,
    which share one `rendered` text)."""
    kind = template.rpartition("/")[2]
    rendered = rendered or render(template, {**base_context(settings), **context}, settings.templates_path)
    if subject:
        rendered = replace(rendered, subject=subject)
    message_id = message_id or new_message_id(kind, token, settings.service.domain)
    envelope = _envelope(settings, recipients=recipients, message_id=message_id, now=now, reply_to=reply_to, auto=auto,
                         unsubscribe=unsubscribe, thread=thread, attachments=attachments, calendar=calendar)
    return dict(
        message_id=message_id, dedupe_key=dedupe_key, kind=kind, mail_from=mail_from or settings.service.address,
        recipients=deliver_to or "\n".join(email for email, _ in recipients), subject=rendered.subject,
        stranger=stranger, rate_key=rate_key(recipients[0][0]) if len(recipients) == 1 else "",
        raw=compose(rendered, envelope), participant_id=participant_id, token=token,
        in_reply_to=in_reply_to, next_try_at=now, created_at=now,
    )


def _envelope(settings: Settings, *, recipients: list[tuple[str, str]], message_id: str, now: datetime,
              reply_to: list[str], auto: str, unsubscribe: str, thread: list[str],
              attachments: Sequence[Attachment] = (), calendar: CalendarPart | None = None) -> Envelope:
    return Envelope(
        sender=address(settings.service.address, settings.service.name),
        to=[address(email, name) for email, name in recipients],
        reply_to=[address(reply_to[0], settings.service.name)] + [address(a) for a in reply_to[1:]],
        message_id=message_id, date=now, loop_id=settings.service.domain, auto_submitted=auto,
        unsubscribe=unsubscribe, in_reply_to=thread[-1] if thread else None, references=thread,
        unsubscribe_url=_one_click(settings, unsubscribe), attachments=list(attachments), calendar=calendar,
    )


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
    counted = answer_counts.sent(session, rate_key(email), now, kind)
    if counted is not None:
        return counted
    since = now - timedelta(days=1)
    if kind:
        return scalar(session, _SENT_TODAY[True], rate_key=rate_key(email), since=since, kind=kind)
    return scalar(session, _SENT_TODAY[False], rate_key=rate_key(email), since=since)


def strangers_answered(session: Session, now: datetime) -> int:
    """Answers queued in the last hour to people not taking part (no participant, or not yet confirmed)."""
    counted = answer_counts.strangers(session, now)
    if counted is not None:
        return counted
    return scalar(session, _STRANGERS, since=now - timedelta(hours=1))
