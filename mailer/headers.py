"""Write header fields (RFC 5322) as text we control end to end (pure).

The standard library's header classes cost about 1 ms an email and, in Python 3.11,
decode RFC 2047 words someone typed into a name before writing them out again, raw:
a name of ``=?utf-8?q?=0D=0ABcc:...?=`` became a header of its own. Here nothing a
participant typed is ever decoded. Text that is not plain ASCII words is written as
RFC 2047 encoded words, and each header is folded at the spaces between its pieces.
"""
from __future__ import annotations

import re
from email.headerregistry import Address

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOMAIN = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LOCAL_PART = re.compile(rf"(?:{_ATEXT}|\.){{1,64}}")
_PLAIN_WORDS = re.compile(rf"{_ATEXT}{{1,70}}(?: {_ATEXT}{{1,70}})*")
_PRINTABLE = re.compile(r"[ -~]*")
_IDENTIFIER = re.compile(r"[!-~]{1,900}")
_LINE = 78
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean_header_text(value: str) -> str:
    """Anything a participant typed loses control characters (C0, DEL, C1) before it goes near a
    header or the organiser's terminal, where escape sequences could rewrite what is shown."""
    return " ".join(_CONTROL.sub(" ", value).split())


def writable(email: str) -> bool:
    """An address we can write in a header and an SMTP envelope without SMTPUTF8: an ASCII local
    part of atom characters and dots (so "taro..yamada", which some mobile operators issued, goes
    out as people write it) and a dot-atom domain. Nothing that would need quoting: smtplib reads
    "a(b)@x.org" as a@x.org with a comment."""
    local, _, domain = email.rpartition("@")
    return bool(_LOCAL_PART.fullmatch(local) and _DOMAIN.fullmatch(domain)) and len(domain) <= 255


class Unwritable(ValueError):
    """A value that has no correct form in a header we write (a non-ASCII address, a broken Message-ID)."""


def fold(name: str, pieces: list[str]) -> str:
    """`name: piece piece ...` with CRLF, folded before a piece that would pass 78 characters.

    A piece longer than a line (a Message-ID from Outlook, a long URL) goes alone on its own
    line, unbroken and unencoded, as RFC 5322 allows up to 998 octets; it starts on the first
    line. Lines with encoded words keep within RFC 2047's 76 characters, the first one too: an
    encoded word that does not fit after the name starts the next line.
    """
    lines, line = [], f"{name}:"
    for piece in pieces:
        limit = 76 if piece.startswith("=?") or "=?" in line else _LINE
        if len(line) + 1 + len(piece) > limit and (line != f"{name}:" or piece.startswith("=?")):
            lines.append(line)
            line = ""
        line += f" {piece}"
    return "\r\n".join([*lines, line]) + "\r\n"


def text(value: str) -> list[str]:
    """Unstructured text (a subject): its words when they are plain ASCII, else encoded words."""
    if not value:
        return []
    words = value.split(" ")
    if _PRINTABLE.fullmatch(value) and "=?" not in value and all(0 < len(w) <= 70 for w in words):
        return words
    return encoded_words(value)


def is_identifier(value: str) -> bool:
    """True for one token `identifiers` accepts: a Message-ID we can quote back in In-Reply-To."""
    return bool(_IDENTIFIER.fullmatch(value))


def identifiers(value: str) -> list[str]:
    """Space-separated tokens that must go out exactly as they are (dates, Message-IDs, URLs)."""
    pieces = value.split(" ")
    for piece in pieces:
        if not is_identifier(piece):
            raise Unwritable(f"not printable ASCII or too long for a header: {piece[:80]!r}")
    return pieces


def addresses(items: list[Address]) -> list[str]:
    """`Name <a@b>, ...` as pieces: the name's words (quoted or encoded when needed), then the address."""
    pieces: list[str] = []
    for n, item in enumerate(items):
        if not writable(f"{item.username}@{item.domain}"):
            raise Unwritable(f"cannot write {item.addr_spec!r}: only plain ASCII addresses are supported")
        mine = [*display_name(item.display_name), f"<{item.addr_spec}>"] if item.display_name else [item.addr_spec]
        if n < len(items) - 1:
            mine[-1] += ","
        pieces += mine
    return pieces


def display_name(name: str) -> list[str]:
    """Plain words; else a quoted string, split at its spaces so it can fold there (RFC 5322 allows
    folding inside one); else encoded words: only text that is not printable ASCII is encoded,
    since spam filters count needless encoding against a sender."""
    if _PLAIN_WORDS.fullmatch(name) and "=?" not in name:
        return name.split(" ")
    if _PRINTABLE.fullmatch(name) and "=?" not in name:
        return ('"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"').split(" ")
    return encoded_words(name)


def encoded_words(value: str) -> list[str]:
    """RFC 2047 "Q" words of at most 75 characters, split between characters, never inside one.

    Only letters, digits and ``!*+-/`` stay as they are (the set allowed in a name, RFC 2047
    5(3)); a space becomes "_". Readers join adjacent encoded words without the space between
    them (RFC 2047 6.2), so the text comes back exactly.
    """
    words, word = [], ""
    for char in value:
        piece = _Q_SAFE.get(char) or "".join(f"={b:02X}" for b in char.encode("utf-8"))
        if len(word) + len(piece) > 63:
            words.append(word)
            word = ""
        word += piece
    words.append(word)
    return [f"=?utf-8?q?{w}?=" for w in words if w]


_Q_SAFE = {c: c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/"} | {" ": "_"}
