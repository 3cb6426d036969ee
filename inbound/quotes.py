"""The words the sender wrote (pure): a reply without the quoted email, the signature and
our "reply above this line" marker, whichever mail client wrote it."""
from __future__ import annotations

import re

from mailer.render import CUT_LINE

QUOTE_HEADER = re.compile(
    r"^(on .{0,200} wrote:?|le .{0,200} a écrit ?:|am .{0,200} schrieb .{0,80}:|"
    r"-+\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht|"
    r"originalmeddelande|messaggio originale|forwarded message)\s*-+|begin forwarded message:|"
    r"(from|von|de|van|från|da)\s?:\s.+|sent from my .+|get outlook for .+|von meinem .+ gesendet|"
    r"envoyé de mon .+|enviado desde mi .+|verzonden (vanaf|met) mijn .+|skickat från min .+|_{5,})$",
    re.IGNORECASE,
)
# "On <date>, <name> wrote:" in the languages of common mail clients; Gmail wraps it over two lines.
ATTRIBUTION = re.compile(
    r"^(on|le|am|el|op|den|il|em)\s.{0,200}\s(wrote|a écrit|schrieb|escribió|schreef|skrev|ha scritto|escreveu)"
    r"(\s.{0,80})?\s?:$",
    re.IGNORECASE,
)


def new_text(body: str) -> str:
    """The part of the body the sender wrote, before quotes, signatures and our marker line; or, when
    the reply opens with the quote (bottom-posting, or answers between quoted lines), what the sender
    wrote below and between the quoted lines."""
    lines = [line.strip() for line in body.replace("\r\n", "\n").split("\n")]
    end = _own_text_end(lines, 0)
    top = "\n".join(lines[:end]).strip()
    if top or end == len(lines):
        return top
    start = _below_quote(lines, end)
    below = lines[start:_own_text_end(lines, start, quotes=False)] if start else []
    return "\n".join(line for line in below if not line.startswith(">")).strip()


def _own_text_end(lines: list[str], start: int, quotes: bool = True) -> int:
    """The index of the first line from `start` that is no longer the sender's own text
    (`quotes`: a ">" line ends it too)."""
    return next((i for i in range(start, len(lines)) if _stops(lines, i, quotes)), len(lines))


def _stops(lines: list[str], index: int, quotes: bool) -> bool:
    line = lines[index]
    if line.startswith(">"):
        return quotes
    if CUT_LINE in line or line == "--" or QUOTE_HEADER.match(line):
        return True
    pair = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
    return bool(ATTRIBUTION.match(line) or ATTRIBUTION.match(pair))


def _below_quote(lines: list[str], index: int) -> int:
    """Where the sender's text starts below a leading ">" quote (and its attribution line or two);
    0 when there is none. Unprefixed quotes (Outlook's From:/Sent: block) have no visible end."""
    first = next((i for i in range(index, min(index + 4, len(lines))) if lines[i].startswith(">")), None)
    if first is None:
        return 0
    below = next((i for i in range(first, len(lines)) if lines[i] and not lines[i].startswith(">")), None)
    return below or 0
