"""Issue tokens and find ours in a reply: in our sub-address (Reply-To) or in the Message-IDs it references."""
from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inbound.parse import Parsed


def new_token() -> str:
    """80 random bits, lower-case base32: survives mail systems that lower-case addresses."""
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def sub_addresses(mail: Parsed, local: str, domain: str) -> list[str]:
    """Tags from recipients such as coffee+TAG@domain (a token, or a campaign tag on JOIN)."""
    prefix, suffix = f"{local.lower()}+", f"@{domain.lower()}"
    return [r[len(prefix):-len(suffix)] for r in mail.recipients if r.startswith(prefix) and r.endswith(suffix)]


def our_references(mail: Parsed, domain: str, direct: bool = False) -> list[tuple[str, str]]:
    """(kind, token) from our Message-IDs (<kind.TOKEN.random@domain>) that this mail refers to;
    `direct`: only the one it answers (In-Reply-To), not every earlier email of the thread."""
    found = [ours(message_id, domain) for message_id in (_answered(mail) if direct else mail.references)]
    return [kind_token for kind_token in found if kind_token]


def ours(message_id: str, domain: str) -> tuple[str, str] | None:
    """(kind, token) when `message_id` has the form of ours (mailer.compose.new_message_id), else None."""
    left, _, host = message_id.strip("<>").rpartition("@")
    parts = left.split(".")
    return (parts[0], parts[1]) if host.lower() == domain.lower() and len(parts) == 3 else None


def _answered(mail: Parsed) -> list[str]:
    """The email this one replies to: In-Reply-To, or where a client leaves it out, the last of References."""
    from inbound.parse import message_ids  # the parser: only with a reply to read, not to issue a token

    direct = message_ids(mail.headers.get("in-reply-to", ""))
    return direct or message_ids(mail.headers.get("references", ""))[-1:]


def referenced_tokens(mail: Parsed, domain: str) -> list[str]:
    """Tokens inside our Message-IDs, for clients that drop the sub-address."""
    return [token for _, token in our_references(mail, domain) if token != "x"]


def candidate_tokens(mail: Parsed, local: str, domain: str) -> list[str]:
    seen: dict[str, None] = {}
    for token in sub_addresses(mail, local, domain) + referenced_tokens(mail, domain):
        seen.setdefault(token.lower(), None)
    return list(seen)
