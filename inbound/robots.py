"""Is this mail from a robot (auto-reply, report, list, role sender, our own mail coming back)? Pure.

Robots are recorded and filed, never answered: answering them is how mail loops start. Each
check covers a family, because every list server, mail server and auto-responder names its
headers a little differently.
"""
from __future__ import annotations

import re

from inbound.autosubjects import automatic_subject
from inbound.parse import Parsed
from inbound.roles import local_parts, role_of
from mailer.compose import LOOP_HEADER

# X-Autoreply, X-Autorespond, X-AutoResponder, X-Auto-Generated, X-AutoReply-From, X-Mail-Autoreply,
# X-FC-MachineGenerated, X-HolidayReply ...; not X-Auto-Response-Suppress (or any other "suppress" header),
# which Exchange adds to people's mail.
AUTO_REPLY_HEADER = re.compile(r"^x-(.*-)?(auto-?(respon|repl|generated|gen\b|submitted)|holidayreply|vacation|"
                               r".*machinegenerated)")
AUTO_REPLY_HEADERS = ("x-ms-exchange-message-is-ndr", "x-failed-recipients")
AUTOMATIC_PRECEDENCE = ("bulk", "junk", "list", "auto_reply", "auto-reply", "autoreply")
# List servers: RFC 2369/2919 List-*, and the headers Mailman, ezmlm, fml, LISTSERV, Sympa, Majordomo
# and procmail loops add of their own (some add nothing else).
LIST_HEADER_PREFIXES = ("list-", "x-list", "x-ml-", "x-mailman-", "x-ezmlm-", "x-listserv", "x-sympa-")
LIST_HEADERS = frozenset({"x-mlserver", "x-beenthere", "x-loop", "x-mailing-list", "mailing-list", "x-mailinglist",
                          "x-ml-name", "x-sequence", "x-mail-count", "x-google-group-id", "x-original-list-id"})
# A multipart/report, or one of its report parts, however it is wrapped: delivery reports, read
# receipts, abuse (ARF) and other feedback reports. None of them is written by a person.
REPORT_TYPES = re.compile(r"^(multipart/report|message/(global-)?(delivery-status|disposition-notification)|"
                          r"message/feedback-report|message/global-headers|message/tlsrpt)")
RECALL = re.compile(r"^\s*(recall|rappel|r[üu]ckruf|recuperar|richiamo)\s*:", re.IGNORECASE)


def robot_reason(mail: Parsed, our_domain: str) -> str | None:
    """Why this message must not be answered, or None for a person."""
    h, role = mail.headers, sender_role(mail)
    checks = (
        (h.get(LOOP_HEADER.lower(), "").lower() == our_domain.lower(), "our own mail came back"),
        (h.get("auto-submitted", "no").lower() not in ("", "no"), "Auto-Submitted header"),
        (any(_auto_reply_header(name) for name in h), "auto-reply header"),
        (_precedence(h) in AUTOMATIC_PRECEDENCE, "Precedence header"),
        (any(_list_header(name) for name in h), "mailing-list headers"),
        (h.get("return-path", "").strip() == "<>", "empty Return-Path (a bounce)"),
        (any(REPORT_TYPES.match(t) for t in mail.part_types), "a report (delivery, read receipt or abuse feedback)"),
        (role is not None, f"sender is {role}"),
        (automatic_subject(mail.subject), "automatic subject (out-of-office, acknowledgement or report)"),
        (bool(RECALL.match(mail.subject)), "an Outlook request to recall a message"),
    )
    return next((why for hit, why in checks if hit), None)


def sender_role(mail: Parsed) -> str | None:
    """The kind of software address in From, Sender or Return-Path (domain or not), if any."""
    values = (mail.headers.get(name, "") for name in ("from", "sender", "return-path"))
    return next((role for value in values for local in local_parts(value) if (role := role_of(local))), None)


def _precedence(headers: dict[str, str]) -> str:
    return (headers.get("precedence") or headers.get("x-precedence") or "").strip().lower()


def _auto_reply_header(name: str) -> bool:
    return name in AUTO_REPLY_HEADERS or ("suppress" not in name and bool(AUTO_REPLY_HEADER.match(name)))


def _list_header(name: str) -> bool:
    return name in LIST_HEADERS or name.startswith(LIST_HEADER_PREFIXES)
