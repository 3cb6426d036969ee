"""Which offered time a reply picks (pure): "2", "Option 2 works", "Tuesday is good".

Read only in a group's thread, where the introduction said "reply 1, 2 or 3", and only when
the reply opens with the choice: "2 works for me, see you then!" books option 2, while chat
that merely mentions a number ("I have 2 kids", "see you at 2pm", "2 of us can make it",
"1 or 2?") does not. A question never books. The option itself is checked against what the
group was offered by the handler (`inbound/booking.py`), not here.
"""
from __future__ import annotations

import calendar
import re

DAYS = {name.lower(): name for name in calendar.day_name} | {
    abbr: name for name in calendar.day_name for abbr in (name[:3].lower(), name[:4].lower())}
_DAY = r"(?P<day>" + "|".join(sorted(DAYS, key=len, reverse=True)) + r")\b"
# What may open a choice: "let's go with option 2", "I'll take 3", "happy with Tuesday".
_LEAD = (r"(?:(?:let'?s\s+(?:go\s+(?:for|with)\s+|do\s+|say\s+)|(?:i'?ll|we'?ll|i\s+will|we\s+will)\s+take\s+|"
         r"(?:i'?d|we'?d)\s+(?:like|prefer)\s+|happy\s+with\s+|(?:go|going)\s+(?:for|with)\s+|book\s+(?:us\s+in\s+for\s+)?)?)")
# What may follow it: "works", "is good for me", "please", "suits us both".
_OK = (r"(?:works?|is\s+(?:good|fine|great|perfect|best|ideal|ok|okay)|suits|sounds\s+(?:good|great|perfect)|"
       r"please|pls|for\s+me|for\s+us|it\s+is|thanks|thank\s+you|perfect|great|fine|good|ok|okay)")
_FOR_WHOM = r"(?:\s+(?:for|with)\s+(?:me|us|both|everyone|all)(?:\s+(?:both|too|as\s+well))?|\s+(?:me|us)(?:\s+both)?)?"
# The end of the choice: the line ends, or a new sentence or clause starts (not "1, 2 or 3", "2-3pm").
_END = r"(?:\s*$|\s*[.!,;:\u2013\u2014-]+(?!\s*(?:\d|or\b|and\b|to\b))|\s+(?:see\s+you|thanks|cheers|then)\b)"
_NUMBER = re.compile(r"^" + _LEAD + r"(?:(?:option|slot|number|no\.?)\s*)?#?(?P<n>[1-9])(?:\s+" + _OK + _FOR_WHOM
                     + r")?" + _END, re.IGNORECASE)
_NAMED_OPTION = re.compile(r"^" + _LEAD + r"(?:option|slot)\s*#?(?P<n>[1-9])\b(?!\s*(?:or|and|,\s*\d|/|-\s*\d))",
                           re.IGNORECASE)
_WEEKDAY = re.compile(r"^" + _LEAD + r"(?:on\s+)?" + _DAY + r"(?:\s+" + _OK + _FOR_WHOM + r"|" + _FOR_WHOM
                      + r"(?=\s*[.!]*\s*$))" + _END, re.IGNORECASE)
_ARGUMENT = re.compile(r"^\s*(?:(?:option|slot|number|no\.?)\s*)?#?(?P<n>[1-9])\b|^\s*(?:on\s+)?" + _DAY, re.IGNORECASE)


def choice(line: str) -> str | None:
    """"2" or a weekday ("Tuesday") when `line` opens by choosing an offered time, else None."""
    line = line.strip()
    if "?" in line:
        return None
    found = _NUMBER.match(line) or _NAMED_OPTION.match(line) or _WEEKDAY.match(line)
    if not found:
        return None
    return found.group("n") if "n" in found.groupdict() and found.group("n") else DAYS[found.group("day").lower()]


def argument(args: str) -> str | None:
    """The option a command names: "BOOK 2", "BOOK option 2 please", "RESCHEDULE 3", "BOOK Tuesday"."""
    found = _ARGUMENT.match(args)
    if not found:
        return None
    return found.group("n") if found.group("n") else DAYS[found.group("day").lower()]
