"""Raw bytes in, a decoded view of the message out (pure: no database, network or clock)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import getaddresses, parseaddr

from inbound.htmltext import html_to_text

FALLBACK_CHARSETS = ("utf-8", "windows-1252", "latin-1")
_MSGID = re.compile(r"<[^<>\s]+>")


class Unreadable(Exception):
    """The message cannot be parsed well enough to act on; it goes to quarantine."""


@dataclass(frozen=True)
class Parsed:
    key: str
    message_id: str
    sender: str
    sender_name: str
    subject: str
    body: str
    recipients: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    auth_results: list[str] = field(default_factory=list)


def parse(raw: bytes) -> Parsed:
    try:
        msg = message_from_bytes(raw, policy=default)
        assert isinstance(msg, EmailMessage)
        name, sender = parseaddr(_header(msg, "From"))
        parsed = Parsed(
            key=dedupe_key(msg, raw),
            message_id=_header(msg, "Message-ID").strip(),
            sender=normalise_address(sender),
            sender_name=name,
            subject=_header(msg, "Subject"),
            body=body_text(msg),
            recipients=_recipients(msg),
            references=message_ids(_header(msg, "In-Reply-To") + " " + _header(msg, "References")),
            headers={k.lower(): _header(msg, k) for k in set(msg.keys())},
            auth_results=[" ".join(str(v).split()) for v in msg.get_all("Authentication-Results", [])],
        )
    except Unreadable:
        raise
    except Exception as exc:  # malformed mail can break the parser in many ways; none may crash the run
        raise Unreadable(f"cannot parse: {type(exc).__name__}: {exc}") from exc
    return parsed


def dedupe_key(msg: Message, raw: bytes) -> str:
    message_id = _header(msg, "Message-ID").strip()
    if _MSGID.fullmatch(message_id):
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def normalise_address(value: str) -> str:
    value = value.strip().strip("<>").strip()
    if value.count("@") != 1 or any(c.isspace() for c in value):
        return ""
    local, domain = value.split("@")
    return f"{local}@{domain}".lower() if local and domain else ""


def message_ids(text: str) -> list[str]:
    """Message-IDs from In-Reply-To/References, tolerating commas and odd spacing."""
    return _MSGID.findall(text)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        value = msg.get_all(name, failobj=[""])[0] if msg.get_all(name) else ""
    return " ".join(str(value or "").split())


def _recipients(msg: Message) -> list[str]:
    fields = [str(v) for name in ("To", "Cc", "Delivered-To", "X-Original-To") for v in msg.get_all(name, [])]
    return [a for a in (normalise_address(addr) for _, addr in getaddresses(fields)) if a]


def body_text(msg: EmailMessage) -> str:
    """The first text/plain part, else the first text/html part as text; attachments ignored."""
    plain = _first_part(msg, "plain")
    if plain is not None:
        return _decode(plain)
    html = _first_part(msg, "html")
    return html_to_text(_decode(html)) if html is not None else ""


def _first_part(msg: EmailMessage, subtype: str) -> Message | None:
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_subtype() == subtype and part.get_content_disposition() != "attachment":
            return part
    return None


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(payload or "")
    declared = part.get_content_charset()
    for charset in ((declared,) if declared else ()) + FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")
