"""Read a bounce (pure): which addresses failed, and whether for good.

RFC 3464 delivery reports are read directly because their Status code tells a
dead mailbox (5.1.x, 5.2.1 ...) from a policy or spam rejection (5.7.x), which
is not the recipient's fault and must not count. Other formats go to
flufl.bounce, Mailman's collection of MTA-specific detectors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string
from email.message import Message

from flufl.bounce import all_failures

from inbound.parse import Parsed, normalise_address
from inbound.roles import is_system, local_parts

DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# What a bounce says, for mail whose sender cannot be read ("From: <>", a bare name): with one of
# these it is a bounce to score, without them a message for the organiser to look at.
BOUNCE_TEXT = re.compile(
    r"could ?n[o']t be delivered|was ?n[o']t (able to )?deliver|(not|n't) (able to )?deliver|unable to deliver|"
    r"could not deliver|was not delivered|non-?deliver|undeliver|delivery (has )?failed|delivery to the following|"
    r"delivery status notification|failure notice|permanent (fatal )?error|failed permanently|returned (mail|to sender)|"
    r"mail system error|could not send|user unknown|unknown user|no such user|no mailbox|address not found|"
    r"mailbox (unavailable|not found|does not exist|full)|recipient address rejected|"
    r"\b5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Bounce:
    permanent: list[str] = field(default_factory=list)
    temporary: list[str] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)


def looks_like_bounce(mail: Parsed) -> bool:
    """A delivery report, mail from MAILER-DAEMON or postmaster (with a domain or not), mail with the
    null Return-Path, or mail with no readable sender that reads like a bounce."""
    h = mail.headers
    content_type = h.get("content-type", "").lower()
    senders = local_parts(h.get("from", "")) + local_parts(h.get("return-path", ""))
    return (
        bool(mail.part_types & DSN_TYPES)
        or ("multipart/report" in content_type and "delivery-status" in content_type)
        or any(is_system(local) for local in senders)
        or h.get("return-path", "").strip() == "<>"
        or "x-failed-recipients" in h
        or (not mail.sender and bool(BOUNCE_TEXT.search(f"{mail.subject}\n{mail.body}")))
    )


def read_bounce(raw: bytes) -> Bounce:
    msg = message_from_bytes(raw)
    reports = list(_delivery_status_blocks(msg))
    if reports:
        return _classify(reports)
    try:
        temporary, permanent = all_failures(msg)
    except Exception:
        return Bounce()
    return Bounce(permanent=_addresses(permanent), temporary=_addresses(temporary))


def _delivery_status_blocks(msg: Message) -> list[Message]:
    blocks: list[Message] = []
    for part in msg.walk():
        if part.get_content_type() in DSN_TYPES:
            blocks += _fields(part)
    return [b for b in blocks if b.get("Final-Recipient") or b.get("Original-Recipient")]


def _fields(part: Message) -> list[Message]:
    """The groups of fields of a report part. The email package splits message/delivery-status into
    them; it reads the international message/global-delivery-status (RFC 6533) as one email, so
    that one is split here, at its blank lines."""
    payload = part.get_payload()
    if part.get_content_type() == "message/delivery-status":
        return [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    pieces = payload if isinstance(payload, list) else [payload]
    text = "".join(p.as_string() if isinstance(p, Message) else str(p) for p in pieces)
    return [message_from_string(chunk) for chunk in re.split(r"\n[ \t]*\n", text) if chunk.strip()]


def _classify(blocks: list[Message]) -> Bounce:
    result = Bounce()
    for block in blocks:
        address = normalise_address(str(block.get("Final-Recipient") or block.get("Original-Recipient")).split(";")[-1])
        action, status = str(block.get("Action", "")).strip().lower(), str(block.get("Status", "")).strip()
        if not address:
            continue
        if action == "failed" and status.startswith("5.7"):
            result.policy.append(address)
        elif action == "failed" or status.startswith("5"):
            result.permanent.append(address)
        elif action == "delayed" or status.startswith("4"):
            result.temporary.append(address)
    return result


def _addresses(found: frozenset[bytes]) -> list[str]:
    return sorted(a for a in (normalise_address(x.decode(errors="replace")) for x in found) if a)
