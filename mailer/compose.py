"""Build a complete, correctly headed email from rendered parts (pure)."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from mailer.render import Rendered

LOOP_HEADER = "X-Unmentoring-Loop"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_header_text(value: str) -> str:
    """Anything a participant typed loses control characters before it goes near a header."""
    return " ".join(_CONTROL.sub(" ", value).split())


def new_message_id(kind: str, token: str | None, domain: str) -> str:
    """Host-qualified and carrying the person's token, so replies that lose Reply-To still find them."""
    return f"<{kind}.{token or 'x'}.{secrets.token_hex(6)}@{domain}>"


def address(email: str, name: str = "") -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=clean_header_text(name), username=local, domain=domain)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Envelope:
    sender: Address
    to: list[Address]
    reply_to: list[Address]
    message_id: str
    date: datetime
    loop_id: str
    auto_submitted: str = "auto-generated"
    unsubscribe: str = ""
    unsubscribe_url: str = ""
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def compose(rendered: Rendered, env: Envelope) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = env.sender
    msg["To"] = env.to
    msg["Reply-To"] = env.reply_to
    msg["Subject"] = clean_header_text(rendered.subject)
    msg["Date"] = format_datetime(env.date)
    msg["Message-ID"] = env.message_id
    if env.in_reply_to:
        msg["In-Reply-To"] = env.in_reply_to
    if env.references:
        msg["References"] = " ".join(env.references)
    msg["Auto-Submitted"] = env.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = env.loop_id
    if env.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{env.unsubscribe_url}>, <mailto:{env.unsubscribe}?subject=LEAVE>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif env.unsubscribe:
        msg["List-Unsubscribe"] = f"<mailto:{env.unsubscribe}?subject=LEAVE>"
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for item in env.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg
