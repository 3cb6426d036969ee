"""Build a complete, correctly headed email from rendered parts (pure).

Most emails we send are two quoted-printable parts under ASCII headers short enough for
one line each. Those are written directly (`_direct`): the standard library's header
objects cost about 1 ms an email, more than everything else in answering a reply. Every
header that is not that simple (a non-ASCII or quoted name, a long subject, a long list
of recipients) is folded by the standard library itself, and emails with attachments are
built by `EmailMessage` whole. tests/test_compose.py checks that both ways give the same
email once parsed.
"""
from __future__ import annotations

import binascii
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


def compose(rendered: Rendered, env: Envelope) -> bytes:
    """The email's bytes, ready for SMTP (CRLF line ends, every line within 998 octets)."""
    if env.attachments or not all(_DOT_ATOM.fullmatch(a.addr_spec) for a in _addresses(env)):
        return compose_message(rendered, env).as_bytes()
    return _direct(rendered, env)


def compose_message(rendered: Rendered, env: Envelope) -> EmailMessage:
    """The same email built by the standard library's `EmailMessage`."""
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


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_ATEXT}+(?:\.{_ATEXT}+)*")
_PLAIN_NAME = re.compile(rf"{_ATEXT}+(?: {_ATEXT}+)*")
_PRINTABLE = re.compile(r"[ -~]*")


def _addresses(env: Envelope) -> list[Address]:
    return [env.sender, *env.to, *env.reply_to]


def _direct(rendered: Rendered, env: Envelope) -> bytes:
    boundary = "=_" + secrets.token_hex(12)
    lines = [
        _header("From", [env.sender]), _header("To", env.to), _header("Reply-To", env.reply_to),
        _header("Subject", clean_header_text(rendered.subject)), _header("Date", format_datetime(env.date)),
        _header("Message-ID", env.message_id),
    ]
    if env.in_reply_to:
        lines.append(_header("In-Reply-To", env.in_reply_to))
    if env.references:
        lines.append(_header("References", " ".join(env.references)))
    lines += [_header("Auto-Submitted", env.auto_submitted), "X-Auto-Response-Suppress: All\r\n",
              _header(LOOP_HEADER, env.loop_id)]
    if env.unsubscribe_url:
        lines.append(_header("List-Unsubscribe", f"<{env.unsubscribe_url}>, <mailto:{env.unsubscribe}?subject=LEAVE>"))
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    elif env.unsubscribe:
        lines.append(_header("List-Unsubscribe", f"<mailto:{env.unsubscribe}?subject=LEAVE>"))
    lines.append(f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    head = "".join(lines).encode("ascii")
    return b"".join((head, _part(boundary, "plain", rendered.text), _part(boundary, "html", rendered.html),
                     f"--{boundary}--\r\n".encode("ascii")))


def _header(name: str, value: str | list[Address]) -> str:
    """One header, folded by hand when it is printable ASCII made of short pieces, else by the standard library.

    Addresses fold after their commas and unstructured text at its spaces (RFC 5322 2.2.3),
    keeping each line within 78 characters.
    """
    pieces, joint = (_plain_addresses(value), ",") if isinstance(value, list) else (value.split(" "), "")
    if pieces and all(len(p) <= 70 and _PRINTABLE.fullmatch(p) for p in pieces):
        lines, line = [], f"{name}:"
        for n, piece in enumerate(pieces):
            tail = joint if n < len(pieces) - 1 else ""
            if len(line) + 1 + len(piece) + len(tail) > 78:
                lines.append(line)
                line = ""
            line += f" {piece}{tail}"
        return "\r\n".join([*lines, line]) + "\r\n"
    return SMTP.header_factory(name, value).fold(policy=SMTP)


def _plain_addresses(addresses: list[Address]) -> list[str]:
    """`Name <a@b>` for each address, or [] when a display name needs quoting or encoding."""
    shown = []
    for item in addresses:
        if not item.display_name:
            shown.append(item.addr_spec)
        elif _PLAIN_NAME.fullmatch(item.display_name):
            shown.append(f"{item.display_name} <{item.addr_spec}>")
        else:
            return []
    return shown


def _part(boundary: str, subtype: str, text: str) -> bytes:
    """A UTF-8 text part, quoted-printable by binascii (C) as `set_content` would (pure Python)."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    head = (f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    return head.encode("ascii") + encoded + b"\r\n"  # that CRLF belongs to the next delimiter (RFC 2046 5.1.1)
