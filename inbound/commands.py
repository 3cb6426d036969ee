"""Find the command in a reply (pure): subject first, then the first lines of the new text.

Quoted text and signatures are cut before looking, so our own instructions quoted
back at us ("reply PAUSE to pause") never count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mailer.render import CUT_LINE

KEYWORDS = ("JOIN", "CONFIRM", "HELP", "MET", "NOT MET")
SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|vs|fw|fwd|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
QUOTE_HEADER = re.compile(
    r"^(on .{0,200} wrote:?|le .{0,200} a écrit ?:|am .{0,200} schrieb .{0,80}:|-+\s*original message\s*-+|"
    r"from:\s.+|sent from my .+|get outlook for .+|_{5,})$",
    re.IGNORECASE,
)
LEADING_WORDS = re.compile(r"[\W_]*([A-Za-z]+)(?:\s+([A-Za-z]+))?")
MAX_LINES = 5


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""


def new_text(body: str) -> str:
    """The part of the body the sender wrote, before quotes, signatures and our marker line."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if CUT_LINE in stripped or stripped == "--" or stripped.startswith(">"):
            break
        if QUOTE_HEADER.match(stripped):
            break
        kept.append(stripped)
    return "\n".join(kept).strip()


def find_command(subject: str, body: str) -> Command | None:
    cleaned = SUBJECT_PREFIX.sub("", subject).strip()
    found = keyword_at_start(cleaned)
    if found:
        return found
    lines = [line for line in new_text(body).split("\n") if line][:MAX_LINES]
    return next((found for found in map(keyword_at_start, lines) if found), None)


def keyword_at_start(text: str) -> Command | None:
    """The command a line starts with, and the rest of the line as its argument."""
    match = LEADING_WORDS.match(text)
    if not match:
        return None
    first, second = match.group(1).upper(), (match.group(2) or "").upper()
    if first == "NOT" and second == "MET":
        return Command("NOT MET", _rest(text, match.end()))
    if first in KEYWORDS:
        return Command(first, _rest(text, match.end(1)))
    return None


def _rest(text: str, start: int) -> str:
    return text[start:].strip(" \t-:,.;!–—")
