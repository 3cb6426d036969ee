"""Subjects that only software writes: out-of-office notes, acknowledgements, delivery reports,
receipts and abuse complaints (pure).

Outlook and Exchange translate the "Automatic reply:" prefix, and many helpdesks, councils and
mail servers send their answers with no Auto-Submitted header at all, so the subject is often
the only sign. A subject is automatic when, after any "Re:"/"[External]" prefixes, it starts
with one of these phrases, or when it carries a tag in brackets such as "[AUTO GENERATED]".
"""
from __future__ import annotations

import re

from inbound.commands import SUBJECT_PREFIX

_PHRASES = (
    # out of office, in the languages our participants' mail servers speak
    r"automatic reply|auto(matic)?[- ]?reply|auto\s*:|out of (the )?office|autoreply|abwesen(heit|d)|"
    r"automatische antwort|r[ée]ponse automatique|absen(ce|t)|ausente|fuori (sede|ufficio)|autosvar|"
    r"automatiskt svar|automatisk svar|fr[åa]nvaro|frav[æa]r|automatisch antwoord|afwezig|risposta automatica|"
    r"respuesta autom[áa]tica|fuera de la oficina|resposta autom[áa]tica|automaattinen vastaus|"
    r"automatyczna odpowied[źz]|automatick[áa] odpov[ěe][dď]|automatikus v[áa]lasz|otomatik yan[ıi]t|"
    r"автоответ|автоматический ответ|αυτόματη απάντηση|מענה אוטומטי|رد تلقائي|자동 ?응답|"
    r"自動応答|自動返信|自動回覆|自动回复|不在|vacation (reply|response|notice)|holiday auto|"
    # acknowledgements and other automatic answers
    r"auto[- ]?(respon(se|der)|generated|ack(nowledge?ment)?|notification|message)|"
    r"automated (response|reply|message|notification|e-?mail)|automatic (response|notification|message|confirmation)|"
    r"this is an auto(mated|matic)|(thank you|thanks) for (your (e-?mail|message|enquiry|inquiry|mail|request)|"
    r"contacting|getting in touch|reaching out|writing to)|we('ve| have) received your|"
    r"your (e-?mail|message|enquiry|inquiry|request) (has been|was|is) (received|logged)|"
    r"(message|request|ticket|case) (received|acknowledg)|"
    # delivery reports and receipts
    r"undeliver(able|ed)|delivery status notification|delivery notification|mail delivery (failed|failure|subsystem|"
    r"system|error|problem)|returned mail|returned to sender|delivery (failure|failed|has failed|problem|delayed|"
    r"report|incomplete)|failure notice|non[- ]?deliver(y|able)|nondeliverable|message (not delivered|delayed|"
    r"could not be delivered|delivery (failure|failed|delayed))|could not send( your)? message|delayed mail|"
    r"(your )?(mail|message) (could ?n[o']t|cannot|was ?n[o']t) (be )?delivered|"
    r"warning: (could not send|message .{0,80} delayed|delayed)|mail system error|unable to deliver|"
    r"unzustellbar|zustellung (fehlgeschlagen|verz[öo]gert)|non remis|onbestelbaar|non recapitabile|"
    r"no se (puede|pudo) entregar|(not )?read\s*:|gelesen\s*:|lu\s*:|gelezen\s*:|le[íi]do\s*:|letto\s*:|"
    r"l[äa]st\s*:|delivered\s*:|relayed\s*:|zugestellt\s*:|"
    # abuse and feedback-loop reports
    r"complaint about message from|(e-?mail )?(abuse|feedback|spam) (report|complaint)|abuse report"
)
AUTOMATIC = re.compile(rf"^({_PHRASES})", re.IGNORECASE)
# "[Auto-Reply]", "[AUTO GENERATED]", "(Automatic reply)", "[Out of Office]", anywhere in the subject;
# "auto" must end a word ("[Automotive news]" is not a tag of ours).
AUTOMATIC_TAG = re.compile(
    r"[\[(]\s*(auto(mat(ic|ed|ically))?\b|autoreply|autorespon|out of (the )?office|ooo\b|oof\b|vacation|bounce|"
    r"undeliver|no-?reply|do not reply|system message)[^\])]{0,60}[\])]",
    re.IGNORECASE,
)


def automatic_subject(subject: str) -> bool:
    """Whether software wrote this subject (see the module's docstring)."""
    stripped = SUBJECT_PREFIX.sub("", subject).strip()
    return bool(AUTOMATIC.match(stripped) or AUTOMATIC.match(subject.strip())
                or AUTOMATIC.match(subject.lstrip(" [")) or AUTOMATIC_TAG.search(subject))
