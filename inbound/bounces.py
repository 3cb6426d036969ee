"""Read a bounce (pure): which addresses failed, and whether for good.

RFC 3464 delivery reports are read directly because their Status code tells a
dead mailbox (5.1.x, 5.2.1 ...) from a policy or spam rejection (5.7.x), which
is not the recipient's fault and must not count. Other formats go to
flufl.bounce, Mailman's collection of MTA-specific detectors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

from flufl.bounce import all_failures

from inbound.parse import Parsed, normalise_address

SYSTEM_SENDERS = ("mailer-daemon", "postmaster")


@dataclass(frozen=True)
class Bounce:
    permanent: list[str] = field(default_factory=list)
    temporary: list[str] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)


def looks_like_bounce(mail: Parsed) -> bool:
    content_type = mail.headers.get("content-type", "").lower()
    return (
        ("multipart/report" in content_type and "delivery-status" in content_type)
        or mail.sender.split("@")[0] in SYSTEM_SENDERS
        or mail.headers.get("return-path", "").strip() == "<>"
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
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            blocks += [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    return [b for b in blocks if b.get("Final-Recipient") or b.get("Original-Recipient")]


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
