"""Addresses that belong to software rather than a person, told by their local part (pure).

Mail servers, list servers and bulk senders write from role addresses: MAILER-DAEMON and
postmaster (bounces, often with no domain at all), a list's -request, -owner, -admin and
-bounces addresses (and Majordomo's owner-<list>), VERP bounce addresses (bounces+…), and
the many spellings of "no reply". A person almost never writes from one.
"""
from __future__ import annotations

import re

from inbound.parse import decode_words

_SEPARATORS = re.compile(r"[^a-z0-9]+")
_BRACKETED = re.compile(r"<\s*([^<>@]*?)\s*(?:@[^<>]*)?>")
_BEFORE_AT = re.compile(r"([^\s<>()\[\],;:]+)@")
_COMMENT = re.compile(r"\([^()]*\)")
SYSTEM = re.compile(r"^(mailer-?daemon|mail-?daemon|mdaemon|post-?master)(-|$)")
ROLES = (
    (re.compile(r"-(request|owner|admin|bounces?|confirm|errors|return(-\d.*)?)$"), "a mailing-list address"),
    (re.compile(r"^owner-"), "a mailing-list address"),
    (re.compile(r"^(listserv|majordomo|mailman|sympa|ezmlm|listproc|lyris)$"), "a mailing-list server"),
    (re.compile(r"(^|-)bounces?(-|\d|$)"), "a bounce-handling address"),
    (re.compile(r"(^|-)(no-?reply|do-?not-?reply|dont-?reply|no-?respon[sd]e?|ne-?pas-?repondre)"),
     "a no-reply address"),
    (re.compile(r"^(fbl|feedback-?loop|scomp|complaints|abuse-?reports?)$"), "a feedback-loop (abuse report) address"),
)


def local_parts(value: str) -> list[str]:
    """The local part of each address in a header, lower case and without any +tag, also for an
    address with no domain ("MAILER-DAEMON (Mail Delivery System)"), which normalise_address rejects.

    Read with two patterns rather than email.utils.getaddresses, which cost ten times as much and
    runs for three headers of every message."""
    text = decode_words(value)
    if "<" in text:
        found = _BRACKETED.findall(text)
    elif "@" in text:
        found = _BEFORE_AT.findall(text.replace('"', ""))
    else:
        bare = _COMMENT.sub("", text).strip().strip('"')
        found = [bare] if bare and not any(c.isspace() for c in bare) else []
    return [local for local in (f.lower().partition("+")[0].strip('"') for f in found) if local]


def words(local: str) -> str:
    """The local part with every run of punctuation as one "-": no_reply, no.reply, no-reply alike."""
    return _SEPARATORS.sub("-", local).strip("-")


def is_system(local: str) -> bool:
    """MAILER-DAEMON or postmaster: the senders of bounces."""
    return bool(SYSTEM.match(words(local)))


def role_of(local: str) -> str | None:
    """What kind of software address this local part is, or None for what may be a person."""
    if is_system(local):
        return "a mail server (MAILER-DAEMON or postmaster)"
    normal = words(local)
    return next((why for pattern, why in ROLES if pattern.search(normal)), None)
