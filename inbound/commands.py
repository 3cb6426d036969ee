"""Find the command in a reply (pure): subject first, then the first lines of the new text.

Quoted text and signatures are cut before looking, so our own instructions quoted
back at us ("reply PAUSE to pause") never count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mailer.render import CUT_LINE

KEYWORDS = ("JOIN", "CONFIRM", "HELP")
SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|vs|fw|fwd|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
QUOTE_HEADER = re.compile(
    r"^(on .{0,200} wrote:?|le .{0,200} a écrit ?:|am .{0,200} schrieb .{0,80}:|-+\s*original message\s*-+|"
    r"from:\s.+|sent from my .+|get outlook for .+|_{5,})$",
    re.IGNORECASE,
)
MAX_LINES = 5


@dataclass(frozen=True)
class Command:
    name: str
    text: str


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
    found = _keyword_at_start(cleaned)
    if found:
        return Command(found, cleaned)
    lines = [line for line in new_text(body).split("\n") if line][:MAX_LINES]
    for line in lines:
        found = _keyword_at_start(line)
        if found:
            return Command(found, line)
    return None


def _keyword_at_start(text: str) -> str | None:
    match = re.match(r"[\W_]*([A-Za-z]+)\b", text)
    if match and match.group(1).upper() in KEYWORDS:
        return match.group(1).upper()
    return None
