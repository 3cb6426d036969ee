"""Handle one fetched message inside the caller's transaction: record it, decide, act.

The caller commits, then files the message in IMAP. A message seen again (a
crash before the move, a duplicate delivery, a second run) is recognised by
its Message-ID and never acted on twice.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from config import Settings
from inbound import lookups
from inbound.bounces import looks_like_bounce
from inbound.bouncing import handle_bounce
from inbound.commands import OUTCOME_QUESTIONS, find_command
from inbound.context import CAPPED, Context, HeldBack, group_for
from inbound.handlers import dispatch
from inbound.itip import CalendarMessage, calendar_reply
from inbound.organiser import Letter, handle as handle_organiser, is_organiser
from inbound.parse import Parsed, Unreadable, headline, parse
from inbound.robots import robot_reason
from inbound.tokens import candidate_tokens, our_references
from inbound.trust import dmarc_failed
from mailer.headers import clean_header_text, writable
from meetings.replies import record as record_calendar_reply
from models import Disposition, InboundMessage
from models.rows import insert_row, update_row
from models.summary import HELD_BACK


@dataclass(frozen=True)
class Where:
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Result:
    disposition: str
    action: str
    reason: str = ""
    duplicate: bool = False
    left: bool = False  # not recorded at all: it stays in the inbox for the next run


def apply_message(session: Session, settings: Settings, raw: bytes, where: Where, now: datetime,
                  mail: Parsed | None = None) -> Result:
    """`mail`: `raw` already parsed (the poller parses a batch before its transaction opens)."""
    try:
        mail = mail or parse(raw)
    except Unreadable as exc:
        return quarantine(session, raw, where, now, str(exc))
    existing = lookups.handled(session, mail.key)
    if existing is not None:
        return Result(*existing, "already handled", duplicate=True)
    found = calendar_reply(raw) if mail.calendar else None
    bounce = found is None and looks_like_bounce(mail)
    passed = _not_acted_on(mail, settings) if found is None and not bounce else None
    if passed is not None:
        return _record_only(session, mail, raw, where, now, *passed)
    record = _record(session, mail, raw, where, now)
    result = _decide(session, settings, mail, raw, record, now, found, bounce)
    if record.capped and "not answered" not in result.reason:
        result = replace(result, reason=f"{result.reason}; {CAPPED}" if result.reason else CAPPED)
    record.disposition, record.action, record.reason = result.disposition, result.action, result.reason
    record.participant_id = record.participant_id or _participant_id(session, mail)
    _finish(session, record, mail)
    return result


def _finish(session: Session, record: InboundMessage, mail: Parsed) -> None:
    """Write what handling decided. Only that: handling may have changed the record's row through a
    query of its own (FORGET blanks the sender and subject of every record of theirs, this one too)."""
    filled_in = ("sender",) if record.sender != mail.sender else ()
    update_row(session, record, "disposition", "action", "reason", "participant_id", "capped", *filled_in)
    lookups.recorded(session, record.message_id, record.disposition, record.action)


def _decide(session: Session, settings: Settings, mail: Parsed, raw: bytes, record: InboundMessage,
            now: datetime, found: CalendarMessage | None, bounce: bool) -> Result:
    """Act on a message `_not_acted_on` let through (`found`: the calendar reply it carries, if any)."""
    if found is not None:  # before commands (its text quotes our invitation) and robots (a person clicked)
        forged = dmarc_failed(mail.auth_results, mail.sender, settings.service.trusted_authserv_id)
        return Result(Disposition.PROCESSED, "calendar-reply",
                      record_calendar_reply(session, settings, mail.sender, found, record.id, now, forged))
    if bounce:
        action, reason = handle_bounce(session, settings, mail, raw, record, now)
        return Result(Disposition.PROCESSED, action, reason)
    if is_organiser(mail.sender, settings):
        action, reason = handle_organiser(Letter(session, settings, mail, record, now))
        return Result(Disposition.PROCESSED, action, reason)
    kinds = [kind for kind, _ in our_references(mail, settings.service.domain)]
    answering = frozenset(kind for kind, _ in our_references(mail, settings.service.domain, direct=True))
    tokens = candidate_tokens(mail, settings.service.local_part, settings.service.domain)
    match = group_for(session, tokens)
    chat = match is not None and not answering & OUTCOME_QUESTIONS
    ctx = Context(
        session=session, settings=settings, mail=mail, record=record, now=now,
        command=find_command(mail.subject, mail.body, answering, chat=chat), tokens=tokens, kinds=kinds, match=match,
    )
    if ctx.participant is not None and ctx.participant.bounce_score:
        ctx.participant.bounce_score = 0
    try:
        decision = dispatch(ctx)
        result = Result(Disposition.PROCESSED, decision.action, decision.reason)
    except HeldBack as held:
        result = Result(Disposition.QUARANTINED, HELD_BACK, str(held))
    person = ctx.participant  # the sender's, as handling left it: no look-up needed afterwards
    if person is not None and lookups.still_theirs(session, person, mail.sender):
        record.participant_id = record.participant_id or person.id
    return result


def _not_acted_on(mail: Parsed, settings: Settings) -> tuple[Result, str] | None:
    """The outcome, and the sender to record, of a message no one acts on (a robot's, one we cannot
    read or answer), decided before it is recorded: its record is then written whole, in one statement.
    Calendar replies and bounces are acted on, so the caller asks this only of other messages."""
    robot = robot_reason(mail, settings.service.domain) or _from_us(mail.sender, settings)
    if robot:
        return Result(Disposition.PROCESSED, "ignored-robot", robot), mail.sender
    if mail.malformed:
        return Result(Disposition.QUARANTINED, "quarantined", mail.malformed), mail.sender
    if not mail.sender:
        return Result(Disposition.QUARANTINED, "quarantined", "no sender address we can read in its From header "
                      f"({mail.sender_problem or 'its address is not valid'}): open it in the quarantine folder and "
                      "act on it by hand"), clean_header_text(mail.headers.get("from", ""))[:320]
    if not writable(mail.sender):
        return Result(Disposition.QUARANTINED, "quarantined", "we cannot write to the sender's address (we can only "
                      "write to plain ASCII addresses): ask them to write from another address"), mail.sender
    return None


def _record_only(session: Session, mail: Parsed, raw: bytes, where: Where, now: datetime, result: Result,
                 sender: str) -> Result:
    record = _record(session, mail, raw, where, now, result, sender)
    lookups.recorded(session, record.message_id, record.disposition, record.action)
    return result


def _from_us(sender: str, settings: Settings) -> str | None:
    local, _, domain = sender.partition("@")
    ours = settings.service
    if domain == ours.domain.lower() and local.split("+")[0] == ours.local_part.lower():
        return "from our own address"
    return None


def _record(session: Session, mail: Parsed, raw: bytes, where: Where, now: datetime,
            result: Result = Result(Disposition.PROCESSED, ""), sender: str | None = None) -> InboundMessage:
    """The message's record; with `result`, its outcome too (else `_finish` writes it)."""
    record = InboundMessage(
        message_id=mail.key, folder=where.folder, uidvalidity=where.uidvalidity, uid=where.uid,
        sender=mail.sender if sender is None else sender, subject=mail.subject, size=len(raw), received_at=now,
        disposition=result.disposition, action=result.action, reason=result.reason, capped=False,
        participant_id=_participant_id(session, mail) if result.action else None,
    )
    return insert_row(session, record)


def _participant_id(session: Session, mail: Parsed) -> int | None:
    """The sender's participant as handling left it (FORGET changes the address, a purge deletes them)."""
    person = lookups.sender(session, mail.sender) if mail.sender else None
    return person.id if person is not None else None


def quarantine(session: Session, raw: bytes, where: Where, now: datetime, reason: str, key: str = "",
               minimal: bool = False) -> Result:
    """Record a message we cannot act on; it is filed in the quarantine folder and shown in status.

    `minimal`: a row with nothing read from the email (no sender, no subject, a hash for its key),
    for a message that could not be recorded otherwise.
    """
    if minimal or not key:
        key = "sha256:" + hashlib.sha256(raw).hexdigest()
    existing = lookups.handled(session, key)
    if existing is not None:
        return Result(*existing, "already handled", duplicate=True)
    sender, subject = ("", "") if minimal else headline(raw)
    insert_row(session, InboundMessage(
        message_id=key, folder=where.folder, uidvalidity=where.uidvalidity, uid=where.uid, size=len(raw),
        sender=sender, subject=subject, received_at=now, disposition=Disposition.QUARANTINED,
        action="quarantined", reason=reason,
    ))
    lookups.recorded(session, key, Disposition.QUARANTINED, "quarantined")
    return Result(Disposition.QUARANTINED, "quarantined", reason)
