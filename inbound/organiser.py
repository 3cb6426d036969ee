"""Mail from the organiser's address: theirs, never a participant's command nor answered with the participants' help.

STATUS and REPORT (in the subject or opening the text) are answered by email when the
message proves it comes from the organiser: it carries a token we sent to the organiser
(a reply to the digest, a bounce notice or one of these answers), or our receiving server
says DKIM/DMARC passed (service.trusted_authserv_id), the rules participants' commands
follow. The answers go to the configured address, never to the message's Reply-To. A
command that proves nothing, and HELP, get the organiser's short help, at most once a day;
it carries a token, so replying to it works. Anything else ("Thanks - great to see!") is
filed and recorded, not answered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

import overview
from config import Settings
from inbound.commands import SUBJECT_PREFIX
from inbound.context import CAPPED, parent
from inbound.parse import Parsed, normalise_address
from inbound.quotes import new_text
from inbound.tokens import candidate_tokens, new_token
from inbound.trust import authenticated
from mailer.compose import Attachment
from mailer.outbox import enqueue, sent_today
from models import InboundMessage, OutboundMessage

_ALONE = re.compile(r"[\W_]*(status|report|help)[\W_]*(please)?[\W_]*$", re.IGNORECASE)
_SHOUTED = re.compile(r"[\W_]*(STATUS|REPORT|HELP)\b")
MAX_SUBJECT_WORDS = 4


@dataclass(frozen=True)
class Letter:
    """One organiser message, as the caller recorded it."""

    session: Session
    settings: Settings
    mail: Parsed
    record: InboundMessage
    now: datetime


def is_organiser(sender: str, settings: Settings) -> bool:
    return bool(sender) and sender == normalise_address(settings.service.organiser)


def organiser_command(subject: str, body: str) -> str | None:
    """STATUS, REPORT or HELP: alone (a "please" allowed) or in capitals at the start, in a short subject
    or the first line of the new text. "Report looks great!" is a remark, not a command."""
    cleaned = SUBJECT_PREFIX.sub("", subject).strip()
    candidates = [cleaned] if len(cleaned.split()) <= MAX_SUBJECT_WORDS else []
    candidates += [line for line in new_text(body).split("\n") if line.strip()][:1]
    for text in candidates:
        found = _ALONE.match(text) or _SHOUTED.match(text)
        if found:
            return found.group(1).upper()
    return None


def trusted(letter: Letter) -> bool:
    """A token we sent to the organiser, or our own server's DKIM/DMARC pass for the organiser's domain."""
    settings, mail = letter.settings, letter.mail
    tokens = candidate_tokens(mail, settings.service.local_part, settings.service.domain)
    if tokens:
        sent = letter.session.scalars(select(OutboundMessage.recipients).where(OutboundMessage.token.in_(tokens)))
        if any(is_organiser(normalise_address(r), settings) for r in sent):
            return True
    return authenticated(mail.auth_results, mail.sender, settings.service.trusted_authserv_id)


def handle(letter: Letter) -> tuple[str, str]:
    """(action, reason) for the record."""
    command = organiser_command(letter.mail.subject, letter.mail.body)
    if command is None:
        return "organiser", "from the organiser: filed, not answered"
    if sent_today(letter.session, letter.mail.sender, letter.now) >= letter.settings.service.max_auto_replies_per_day:
        return "organiser", f"from the organiser ({command}): {CAPPED}"
    if command != "HELP" and trusted(letter):
        return ANSWERS[command](letter)
    return _help(letter, command)


def _status(letter: Letter) -> tuple[str, str]:
    figures = overview.figures(letter.session, letter.settings, letter.now)
    _answer(letter, "organiser/status", lines=overview.lines(figures, letter.settings))
    return "organiser-status", "sent the status to the organiser"


def _report(letter: Letter) -> tuple[str, str]:
    from report.digest import report_attachment  # networkx and the drawing code: only when asked

    name = f"network-report-{letter.now:%Y-%m-%d}.html"
    built, attachment = report_attachment(letter.session, letter.settings, letter.now, name)
    _answer(letter, "organiser/report", attachments=[attachment], attachment=name, rounds=built.rounds,
            people=built.people)
    return "organiser-report", "sent the report to the organiser"


def _help(letter: Letter, command: str) -> tuple[str, str]:
    if sent_today(letter.session, letter.mail.sender, letter.now, kind="organiser_help"):
        return "organiser", f"from the organiser ({command}): the organiser's help already went today"
    untrusted = command != "HELP"
    _answer(letter, "organiser/organiser_help", command=command if untrusted else "")
    why = "not proven to be the organiser's (no token of ours, no trusted DKIM/DMARC)" if untrusted else "asked"
    return "organiser-help", f"sent the organiser's help: {command} {why}"


def _answer(letter: Letter, template: str, attachments: Sequence[Attachment] = (), **context: object) -> None:
    """A reply in the organiser's thread, with a fresh token so that replying to it is trusted too."""
    enqueue(letter.session, letter.settings, template=template, to=letter.settings.service.organiser, now=letter.now,
            answering=parent(letter.record, letter.mail), token=new_token(), context=context, attachments=attachments)


ANSWERS = {"STATUS": _status, "REPORT": _report}
