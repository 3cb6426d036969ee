"""Raw bytes in, a decoded view of the message out (pure: no database, network or clock)."""
from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors, message_from_bytes
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses

from inbound.htmltext import html_to_text
from inbound.sender import AmbiguousSender, Mailbox, read_from

FALLBACK_CHARSETS = ("utf-8", "windows-1252", "latin-1")
_MSGID = re.compile(r"<[^<>\s]+>")
MAX_LINE = 998  # RFC 5322 2.1.1: the longest a header line may be


CALENDAR_TYPES = {"text/calendar", "application/ics"}


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
    calendar: bool = False
    sender_problem: str = ""  # why the From header names no sender we can trust (then sender is "")
    part_types: frozenset[str] = frozenset()  # of the sender's own parts, not of attached emails
    malformed: str = ""  # why its structure cannot be trusted, judged after bounces and robots


def parse(raw: bytes) -> Parsed:
    """Headers are read with the compat32 policy and encoded words decoded only where a value has
    them: ``email.policy.default`` builds a header object per field, which cost ten times as much.

    Broken structure is recorded in ``malformed`` rather than raised: a bounce quoting a cut-off
    original is still a bounce, so the caller looks for bounces and robots before judging it."""
    try:
        msg = message_from_bytes(raw)
        sender, problem = _from(_header(msg, "From", decode=False))
        parsed = Parsed(
            key=dedupe_key(msg, raw),
            message_id=_header(msg, "Message-ID").strip(),
            sender=normalise_address(sender.address),
            sender_name=decode_words(sender.name),
            subject=_header(msg, "Subject"),
            body=body_text(msg),
            recipients=_recipients(msg),
            references=message_ids(_header(msg, "In-Reply-To") + " " + _header(msg, "References")),
            headers=_headers(msg),
            auth_results=[" ".join(_plain(v).split()) for v in msg.get_all("Authentication-Results", [])],
            calendar=any(part.get_content_type() in CALENDAR_TYPES for part in msg.walk()),
            sender_problem=problem,
            part_types=frozenset(part.get_content_type() for part in _own_parts(msg)),
            malformed=_structure_fault(msg),
        )
    except Exception as exc:  # malformed mail can break the parser in many ways; none may crash the run
        raise Unreadable(f"cannot parse: {type(exc).__name__}: {exc}") from exc
    return parsed


def headline(raw: bytes) -> tuple[str, str]:
    """Sender and subject, best effort, so the organiser can recognise mail we could not act on
    (too large, unreadable); empty strings where even the header cannot be read."""
    try:
        msg = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
        value = _header(msg, "From", decode=False)
        sender, problem = _from(value)
        return (value if problem else normalise_address(sender.address)), _header(msg, "Subject")
    except Exception:
        return "", ""


def _from(value: str) -> tuple[Mailbox, str]:
    """The sender's mailbox, read strictly (inbound/sender.py), or an empty one and why it is ambiguous."""
    try:
        return read_from(value), ""
    except AmbiguousSender as exc:
        return Mailbox("", ""), str(exc)


def _structure_fault(msg: Message) -> str:
    """A multipart whose boundary never appears, or is not given, has no readable parts: guessing at
    its text could act on the wrong words (or miss a real command silently), so a person should look."""
    for part in msg.walk():
        if any(isinstance(d, errors.StartBoundaryNotFoundDefect) for d in part.defects):
            return "malformed MIME: the multipart boundary is never found"
        if any(isinstance(d, errors.NoBoundaryInMultipartDefect) for d in part.defects):
            return "malformed MIME: a multipart without a boundary"
    return ""


def dedupe_key(msg: Message, raw: bytes) -> str:
    """The Message-ID; a hash of it when it is too long for a header line or holds control characters
    (a cut one could be another message's; a hash still recognises a redelivered copy); a hash of the
    bytes when there is none."""
    message_id = _header(msg, "Message-ID").strip()
    if not _MSGID.fullmatch(message_id):
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(message_id) <= MAX_LINE and message_id.isprintable():
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_address(value: str) -> str:
    value = value.strip().strip("<>").strip()
    if value.count("@") != 1 or any(c.isspace() for c in value):
        return ""
    local, domain = value.split("@")
    if len(local) > 2 and local[0] == local[-1] == '"' and '"' not in local[1:-1] and "\\" not in local:
        local = local[1:-1]  # "john.smith"@x.org is john.smith@x.org
    return f"{local}@{domain}".lower() if local and domain else ""


def message_ids(text: str) -> list[str]:
    """Message-IDs from In-Reply-To/References, tolerating commas and odd spacing."""
    return _MSGID.findall(text)


def _header(msg: Message, name: str, decode: bool = True) -> str:
    """One header as a line of text: unfolded, 8-bit bytes read as UTF-8 (else Windows-1252), and
    RFC 2047 encoded words decoded (unless ``decode`` is off, for addresses parsed before decoding)."""
    value = msg.get(name)
    if isinstance(value, Header):
        value = _eight_bit(value)
    text = " ".join(str(value or "").split())
    return decode_words(text) if decode else text


def _headers(msg: Message) -> dict[str, str]:
    """Each header's first value by lower-case name, in one pass: asking the message for each
    name in turn scans every header each time, and 40,000 header names then took 25 s."""
    first: dict[str, str | Header] = {}
    for name, value in msg.items():
        first.setdefault(name.lower(), value)
    return {name: decode_words(" ".join(_plain(value).split())) for name, value in first.items()}


def _eight_bit(value: Header) -> str:
    """A raw header holding undeclared 8-bit bytes (which compat32 wraps in a Header)."""
    return "".join(_to_str(data, None) if isinstance(data, bytes) else data for data, _ in decode_header(value))


def decode_words(text: str) -> str:
    if "=?" not in text:
        return text
    try:
        return " ".join(str(make_header(decode_header(text))).split())
    except (LookupError, UnicodeError, ValueError, errors.HeaderParseError):
        return text


def _plain(value: str | Header) -> str:
    return _eight_bit(value) if isinstance(value, Header) else str(value)


def _recipients(msg: Message) -> list[str]:
    fields = [_plain(v) for name in ("To", "Cc", "Delivered-To", "X-Original-To") for v in msg.get_all(name, [])]
    return [a for a in (normalise_address(addr) for _, addr in getaddresses(fields)) if a]


def body_text(msg: Message) -> str:
    """The first text/plain part, else the first text/html part as text; attachments and attached
    emails (a forward's embedded message is not the sender's words) ignored."""
    plain = _first_part(msg, "plain")
    if plain is not None:
        return _decode(plain)
    html = _first_part(msg, "html")
    return html_to_text(_decode(html)) if html is not None else ""


def _first_part(msg: Message, subtype: str) -> Message | None:
    for part in _own_parts(msg):
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_subtype() == subtype and part.get_content_disposition() != "attachment":
            return part
    return None


def _own_parts(part: Message) -> Iterator[Message]:
    """Like walk(), without descending into attached emails (message/rfc822, forwarded as attachment)."""
    yield part
    if part.is_multipart() and part.get_content_maintype() != "message":
        for sub in part.get_payload():
            yield from _own_parts(sub)


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(payload or "")
    text = _to_str(payload, _charset(part.get_content_charset()))
    if part.get_content_type() == "text/plain" and str(part.get_param("format", "")).lower() == "flowed":
        return unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def _charset(declared: str | None) -> str | None:
    """ISO-8859-1 labels mean Windows-1252, as browsers read them: Outlook and others label text
    with curly quotes and dashes (bytes 0x80-0x9F) as ISO-8859-1."""
    try:
        return "windows-1252" if declared and codecs.lookup(declared).name == "iso8859-1" else declared
    except LookupError:
        return None


def _to_str(payload: bytes, declared: str | None) -> str:
    for charset in ((declared,) if declared else ()) + FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def unflow(text: str, delsp: bool = False) -> str:
    """Undo format=flowed (RFC 3676): a line ending in a space continues on the next line of the same
    quote depth. Thunderbird and Apple Mail wrap long lines this way, splitting a reason in two."""
    out: list[str] = []
    pending, depth_pending = "", -1
    for line in text.replace("\r\n", "\n").split("\n"):
        depth, content = _flowed_line(line)
        if depth != depth_pending and depth_pending >= 0:
            out.append(_quoted(pending, depth_pending))
            pending = ""
        content, pending, depth_pending = pending + content, "", -1
        if content.endswith(" ") and content.rstrip(" ") != "--":
            pending, depth_pending = (content[:-1] if delsp else content), depth
        else:
            out.append(_quoted(content, depth))
    return "\n".join(out + ([_quoted(pending, depth_pending)] if depth_pending >= 0 else []))


def _flowed_line(line: str) -> tuple[int, str]:
    """Quote depth and content of a format=flowed line, without its space-stuffing."""
    depth = len(line) - len(line.lstrip(">"))
    content = line[depth:]
    return depth, content[1:] if content.startswith(" ") else content


def _quoted(content: str, depth: int) -> str:
    return f"{'>' * depth} {content}" if depth else content
