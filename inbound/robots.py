"""Is this mail from a robot (auto-reply, bounce, list, our own mail coming back)? Pure.

Robots are recorded and filed, never answered: answering them is how mail loops start.
"""
from __future__ import annotations

import re

from inbound.commands import SUBJECT_PREFIX
from inbound.parse import Parsed
from mailer.compose import LOOP_HEADER

ROBOT_LOCALPARTS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply", "donotreply", "bounce")
# Outlook and Exchange translate the "Automatic reply:" prefix and some clients send it without any
# Auto-Submitted header, so the subject is often the only sign.
OUT_OF_OFFICE = re.compile(
    r"^(automatic reply|auto(matic)?[- ]?reply|auto\s*:|out of (the )?office|autoreply|abwesen(heit|d)|"
    r"automatische antwort|r[ée]ponse automatique|absen(ce|t)|ausente|fuori (sede|ufficio)|autosvar|automatiskt svar|automatisk svar|fr[åa]nvaro|frav[æa]r|"
    r"automatisch antwoord|afwezig|risposta automatica|respuesta autom[áa]tica|fuera de la oficina|"
    r"resposta autom[áa]tica|automaattinen vastaus|automatyczna odpowied[źz]|自動応答|自動返信|自动回复|"
    r"undeliverable|delivery status notification|mail delivery (failed|subsystem)|returned mail|delivery failure)",
    re.IGNORECASE,
)


RECALL = re.compile(r"^\s*(recall|rappel|r[üu]ckruf|recuperar|richiamo)\s*:", re.IGNORECASE)


def robot_reason(mail: Parsed, our_domain: str) -> str | None:
    """Why this message must not be answered, or None for a person."""
    h = mail.headers
    checks = (
        (h.get(LOOP_HEADER.lower(), "").lower() == our_domain.lower(), "our own mail came back"),
        (h.get("auto-submitted", "no").lower() not in ("", "no"), "Auto-Submitted header"),
        ("x-autoreply" in h or "x-autorespond" in h, "auto-reply header"),
        (h.get("precedence", "").lower() in ("bulk", "junk", "list", "auto_reply"), "Precedence header"),
        (any(k.startswith("list-") for k in h), "mailing-list headers"),
        (h.get("return-path", "").strip() == "<>", "empty Return-Path (a bounce)"),
        (_content_type(h) in ("multipart/report",), "delivery report"),
        (mail.sender.split("@")[0] in ROBOT_LOCALPARTS, "sender is a system address"),
        (_out_of_office(mail.subject), "out-of-office or delivery subject"),
        (bool(RECALL.match(mail.subject)), "an Outlook request to recall a message"),
    )
    return next((why for hit, why in checks if hit), None)


def _content_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _out_of_office(subject: str) -> bool:
    """After any "Re:" or "[External]", or in a tag of its own ("[Auto-Reply] Welcome")."""
    return bool(OUT_OF_OFFICE.match(SUBJECT_PREFIX.sub("", subject)) or OUT_OF_OFFICE.match(subject.lstrip(" [")))
