"""Where an email we send sits in its reader's thread: References and subject (pure).

Mail clients thread in two ways. mutt, Thunderbird and Apple Mail follow References (JWZ's
algorithm): an answer must carry its parent's References (or, lacking them, its single
In-Reply-To) followed by the parent's Message-ID (RFC 5322 3.6.4), or it starts a thread of
its own. Gmail also needs the subject to stay the same once "Re:" and "Fwd:" are stripped, so
every email about a group says `Re: <the introduction's subject>`.
"""
from __future__ import annotations

from mailer.headers import clean_header_text, is_identifier

KEEP_FIRST = 1
KEEP_LAST = 8  # with the first and the parent: at most 10 ids, as RFC 5322 3.6.4 allows trimming the middle
MAX_SUBJECT = 200


def quotable(message_id: str) -> bool:
    """A Message-ID we can write back (not the hash we record for mail without one)."""
    return message_id.startswith("<") and message_id.endswith(">") and is_identifier(message_id)


def references(parent_id: str, parent_references: list[str], parent_in_reply_to: list[str]) -> list[str]:
    """The References of an answer to the parent: its References (else its one In-Reply-To), then its id.

    A long chain keeps its first id (the thread's root) and its last few; ids we cannot write
    back and repeats are left out."""
    if not quotable(parent_id):
        return []
    earlier = parent_references or (parent_in_reply_to if len(parent_in_reply_to) == 1 else [])
    chain: list[str] = []
    for message_id in [*earlier, parent_id]:
        if quotable(message_id) and message_id not in chain:
            chain.append(message_id)
    if len(chain) > KEEP_FIRST + KEEP_LAST + 1:
        chain = chain[:KEEP_FIRST] + chain[-(KEEP_LAST + 1):]
    return chain


def reply_subject(subject: str) -> str:
    """`Re: <subject>`, written once however many "Re:" it already has."""
    cleaned = clean_header_text(subject)[:MAX_SUBJECT]
    return cleaned if cleaned[:3].lower() == "re:" else f"Re: {cleaned}"
