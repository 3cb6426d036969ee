"""Words from someone we cannot vouch for, made safe to store as a name or to repeat back (pure).

A forger can choose a display name ("Reset your password at evil.example") or a command's
words, and we would write them in a To: header or a confirmation request sent from the
organisation's own domain, where mail clients turn any address or domain into a live link.
So names lose every link, address and domain name, and a quotation is a few plain words.
"""
from __future__ import annotations

import re

from mailer.headers import clean_header_text

QUOTE_CHARS = 60
_LINKISH = re.compile(r"@|://|^www\.|[^\W_]\.[^\W\d_]{2,}", re.IGNORECASE)
_EDGES = " \t,;:()[]<>\"'|-"


def without_links(text: str) -> str:
    """`text` on one line, each word that holds an address, a URL or a domain name dropped."""
    return " ".join(_words(text, ""))


def person_name(text: str, limit: int = 200) -> str:
    """A name fit for a To: header and the participant list: plain words, no links or addresses."""
    return without_links(text).strip(_EDGES)[:limit].strip(_EDGES)


def quotation(text: str, limit: int = QUOTE_CHARS) -> str:
    """The start of `text` as a short plain quotation: its first line, whole words, links marked as removed."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    kept: list[str] = []
    for word in _words(first, "[link removed]"):
        if len(" ".join(kept + [word])) > limit:
            return " ".join(kept) + "…"
        kept.append(word)
    return " ".join(kept)


def _words(text: str, mark: str) -> list[str]:
    words = [mark if _LINKISH.search(word) else word for word in clean_header_text(text).split()]
    return [word for word in words if word]
