"""Who sent a message: the From header read strictly, as RFC 5322 writes one mailbox (pure).

A lenient reader guesses, and a forger chooses what it guesses: Python's parseaddr reads
``Sam: sam.jones@leeds.gov.uk <attacker@evil.example>`` as Sam's address. Here a From
is either one mailbox, ``name <address>`` or a bare ``address (comment)``, or it is
ambiguous and the message goes to quarantine for a person to read. One leniency is kept,
because it cannot mislead: an unquoted comma in the name ("Jones, Sam <sam@x.org>", as some
Outlook setups write it), when the name holds no other address.
"""
from __future__ import annotations

from dataclasses import dataclass

_SPECIALS = set('()<>[]:;@\\,"')


class AmbiguousSender(ValueError):
    """The From header is not one mailbox we can read without guessing; the message says why."""


@dataclass(frozen=True)
class Mailbox:
    address: str  # as written: not yet lower-cased or unquoted
    name: str  # the display name (or a bare address's comment), encoded words not yet decoded


def read_from(value: str) -> Mailbox:
    """The one mailbox in an unfolded From value, or AmbiguousSender with the reason."""
    if not value.strip():
        raise AmbiguousSender("there is no From header")
    tokens = _tokens(value)
    angles = [i for i, (kind, _) in enumerate(tokens) if kind == "angle"]
    if len(angles) > 1:
        raise AmbiguousSender("it holds more than one <address>")
    if not angles:
        words = [t for t in tokens if t[0] != "comment"]
        comment = next((text for kind, text in tokens if kind == "comment"), "")
        return Mailbox(_addr_spec(words), comment)
    at = angles[0]
    if any(kind != "comment" for kind, _ in tokens[at + 1:]):
        raise AmbiguousSender("there is text after the <address>")
    inside = [t for t in _tokens(tokens[at][1]) if t[0] != "comment"]
    return Mailbox(_addr_spec(inside), _phrase(tokens[:at]))


def _addr_spec(tokens: list[tuple[str, str]]) -> str:
    """local@domain from exactly three tokens: a word or quoted string, "@", a word."""
    shape = [kind if kind != "special" else text for kind, text in tokens]
    if shape not in (["word", "@", "word"], ["quoted", "@", "word"]):
        raise AmbiguousSender("it is not one plain address")
    (kind, local), _, (_, domain) = tokens
    if kind == "quoted":
        if "@" in local or '"' in local or "\\" in local:
            raise AmbiguousSender("its address hides another inside quotes")
        local = f'"{local}"'
    if local.startswith("=?") and "?=" in local:
        raise AmbiguousSender("its address is an encoded word, which RFC 2047 forbids there")
    return f"{local}@{domain}"


def _phrase(tokens: list[tuple[str, str]]) -> str:
    """The display name: words, quoted strings and comments; an unquoted comma joins the word before it."""
    parts: list[str] = []
    for kind, text in tokens:
        if kind == "special" and text == "," and parts:
            parts[-1] += ","
        elif kind == "special":
            raise AmbiguousSender(f"its name has an unquoted {text!r}, so the address may be read from it")
        elif kind != "comment":
            parts.append(text)
    return " ".join(parts)


def _tokens(value: str) -> list[tuple[str, str]]:
    """Words (atoms with their dots), quoted strings, comments, <angle> contents and specials."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char.isspace():
            i += 1
        elif char == '"':
            text, i = _quoted(value, i)
            tokens.append(("quoted", text))
        elif char == "(":
            text, i = _comment(value, i)
            tokens.append(("comment", text))
        elif char == "<":
            end = value.find(">", i)
            if end < 0:
                raise AmbiguousSender("an '<' is never closed")
            tokens.append(("angle", value[i + 1:end]))
            i = end + 1
        elif char in _SPECIALS:
            tokens.append(("special", char))
            i += 1
        else:
            end = i
            while end < len(value) and not value[end].isspace() and value[end] not in _SPECIALS:
                end += 1
            tokens.append(("word", value[i:end]))
            i = end
    return tokens


def _quoted(value: str, start: int) -> tuple[str, int]:
    """A quoted string's content (backslash escapes undone) and the index after its closing quote."""
    out, i = [], start + 1
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
        elif value[i] == '"':
            return "".join(out), i + 1
        else:
            out.append(value[i])
            i += 1
    raise AmbiguousSender("a quoted name is never closed")


def _comment(value: str, start: int) -> tuple[str, int]:
    """A (possibly nested) comment's content and the index after its closing parenthesis."""
    depth, out, i = 0, [], start
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return "".join(out[1:]), i + 1
        out.append(char)
        i += 1
    raise AmbiguousSender("a comment in it is never closed")
