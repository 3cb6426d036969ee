"""Find the command in a reply (pure): subject first, then the first lines of the new text.

Quoted text and signatures are cut before looking, so our own instructions quoted
back at us ("reply PAUSE to pause") never count. Besides the keywords, short
replies in the words people really use count for MET and NOT MET ("Yes, we met!",
"Sadly we didn't manage to meet"), and a plain yes/no answers "Did you meet?".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mailer.render import CUT_LINE

ALIASES = {
    "JOIN": "JOIN", "CONFIRM": "CONFIRM", "HELP": "HELP", "MET": "MET", "SKIP": "SKIP", "PAUSE": "PAUSE",
    "RESUME": "RESUME", "LEAVE": "LEAVE", "UNSUBSCRIBE": "LEAVE", "STOP": "LEAVE", "PROFILE": "PROFILE",
    "SHARE": "SHARE", "FORGET": "FORGET", "MYDATA": "MYDATA", "SUBSCRIBE": "JOIN", "START": "JOIN",
}
FILLERS = {"YES", "YEP", "YEAH", "HI", "HELLO", "OK", "OKAY", "SURE", "THANKS", "PLEASE", "DEAR", "HEY"}
SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|vs|fw|fwd|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
QUOTE_HEADER = re.compile(
    r"^(on .{0,200} wrote:?|le .{0,200} a écrit ?:|am .{0,200} schrieb .{0,80}:|-+\s*original message\s*-+|"
    r"from:\s.+|sent from my .+|get outlook for .+|_{5,})$",
    re.IGNORECASE,
)
WORDS = re.compile(r"[A-Za-z']+")
LEADING = re.compile(
    r"[\W_]*(?:(?:" + "|".join(FILLERS) + r")\b[\W_]+)*(not\s+met\b|[A-Za-z]+)", re.IGNORECASE
)
NOT_MET_PHRASE = re.compile(
    r"\b(didn'?t|did not|haven'?t|have not|hasn'?t|couldn'?t|could not|wasn'?t able|weren'?t able|unable|"
    r"never|not yet|no,? we)\b.{0,40}?\b(meet|met|manage|catch up|connect|speak|talk|chat|find (a )?time|make it)",
    re.IGNORECASE,
)
MET_PHRASE = re.compile(
    r"\b(we|i)\s+(have\s+|'ve\s+|finally\s+|just\s+|already\s+)?(met|had\s+(a|an|our|the)(\s+\w+){0,2}\s+"
    r"(chat|call|coffee|conversation|meeting|catch[- ]?up|talk|natter|cuppa))\b|\bmet up\b|^(yes|yep|yeah),?\s+(we\s+)?did\b",
    re.IGNORECASE,
)
JOIN_PHRASE = re.compile(
    r"\b(like|want|love|keen|happy|wish)\s+to\s+(join|sign\s+up|take\s+part|participate)\b|\bsign\s+me\s+up\b|"
    r"\bcount\s+me\s+in\b",
    re.IGNORECASE,
)
BARE = re.compile(r"[\W_]*(not\s+met\b|[A-Za-z]+)", re.IGNORECASE)
MAX_LINES = 5
MAX_SUBJECT_WORDS = 5
MAX_NATURAL_CHARS = 400
OUTCOME_QUESTIONS = {"checkin", "nudge"}


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""
    body: str = ""


def new_text(body: str) -> str:
    """The part of the body the sender wrote, before quotes, signatures and our marker line."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if CUT_LINE in stripped or stripped == "--" or stripped.startswith(">") or QUOTE_HEADER.match(stripped):
            break
        kept.append(stripped)
    return "\n".join(kept).strip()


def find_command(subject: str, body: str, answering: frozenset[str] = frozenset()) -> Command | None:
    """`answering` holds the kinds of our emails this one replies to (e.g. "checkin")."""
    text = new_text(body)
    lines = [line for line in text.split("\n") if line]
    found = subject_command(subject)
    if found:
        return Command(found.name, found.args, text)
    for index, line in enumerate(lines[:MAX_LINES]):
        found = keyword_at_start(line)
        if found:
            return Command(found.name, found.args, "\n".join(lines[index + 1:]))
    return natural_outcome(text, lines, answering)


def subject_command(subject: str) -> Command | None:
    """A short subject that starts with a command ("JOIN", "Re: PAUSE 3"). Longer ones are our own
    subjects coming back ("Re: Please confirm you'd like to join") or ordinary sentences."""
    cleaned = SUBJECT_PREFIX.sub("", subject).strip()
    if len(WORDS.findall(cleaned)) > MAX_SUBJECT_WORDS:
        return None
    return keyword_at_start(cleaned, fillers=False)


def keyword_at_start(text: str, fillers: bool = True) -> Command | None:
    """The command a line starts with (after a "yes," or "hi"), and the rest of the line as its argument."""
    match = (LEADING if fillers else BARE).match(text)
    if not match:
        return None
    word = " ".join(match.group(1).upper().split())
    if word == "NOT MET":
        return Command("NOT MET", _rest(text, match.end()))
    return Command(ALIASES[word], _rest(text, match.end())) if word in ALIASES else None


def natural_outcome(text: str, lines: list[str], answering: frozenset[str]) -> Command | None:
    if not lines or len(text) > MAX_NATURAL_CHARS:
        return None
    opening = " ".join(lines[:2])
    if NOT_MET_PHRASE.search(opening):
        return Command("NOT MET", opening)
    if MET_PHRASE.search(opening):
        return Command("MET", "")
    if JOIN_PHRASE.search(opening):
        return Command("JOIN", "")
    if answering & OUTCOME_QUESTIONS:
        first = WORDS.match(opening.strip(" \t-*!.,"))
        word = first.group().upper() if first else ""
        if word in {"YES", "YEP", "YEAH"}:
            return Command("MET", "")
        if word in {"NO", "NOPE"}:
            return Command("NOT MET", _rest(opening, first.end() if first else 0))
    return None


def _rest(text: str, start: int) -> str:
    return text[start:].strip(" \t-:,.;!–—")
