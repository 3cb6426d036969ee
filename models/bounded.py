"""Text from outside (an email above all) made storable, at the one place every value passes: its column.

PostgreSQL refuses a NUL character and a string longer than its column, and both databases
refuse a lone surrogate (which Python's email package leaves for bytes it could not decode).
One such value in one email used to roll back a whole batch. A column of type `Bounded`
cleans what is written to it, and what it is compared with, so no email can make a write or
a lookup fail, and a lookup finds what the same value was stored as.
"""
from __future__ import annotations

import re

from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_END = re.compile(r"\r\n?")


def storable(value: str, limit: int, lines: bool = False) -> str:
    """`value` with lone surrogates as U+FFFD, control characters (C0, DEL, C1; NUL among them)
    as spaces, at most `limit` characters. `lines` keeps line breaks (as "\\n") and tabs."""
    if len(value) <= limit and value.isprintable():
        return value
    value = _SURROGATE.sub("\ufffd", value)
    if lines:
        value = _CONTROL_BUT_LINES.sub(" ", _LINE_END.sub("\n", value))
    else:
        value = _CONTROL.sub(" ", value)
    return value[:limit]


class Bounded(TypeDecorator[str]):
    """A string column that stores `storable(value, limit, lines)`: VARCHAR(limit), or TEXT when
    `text` (the column has no length of its own; `limit` still bounds what goes in)."""

    impl = String
    cache_ok = True

    def __init__(self, limit: int, *, text: bool = False, lines: bool = False) -> None:
        super().__init__()
        self.limit, self.text, self.lines = limit, text, lines
        self.impl = Text() if text else String(limit)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else storable(str(value), self.limit, self.lines)

    def __repr__(self) -> str:
        return f"Bounded({self.limit}{', text=True' if self.text else ''}{', lines=True' if self.lines else ''})"
