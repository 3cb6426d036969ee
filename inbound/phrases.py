"""Commands said in ordinary words (pure): "Yes, we met!", "Sadly we didn't manage to meet",
"count me in", and a plain yes or no to "Did you meet?".

How much is read into ordinary words depends on where the reply was written. In a
group's thread people arrange their coffee with each other ("Not yet, but I'll send
an invite", "I've never met anyone from NHS England"), so there only outcomes count,
and NOT MET only as a negated meeting ("we didn't manage to meet", "didn't get to
meet"), never a bare "not yet". Elsewhere (our plain address, a personal email, a
direct answer to "Did you meet?") words are meant for us, and more of them count.
"""
from __future__ import annotations

import re

_NEGATION = (r"(didn'?t|did not|haven'?t|have not|hasn'?t|couldn'?t|could not|wasn'?t able|weren'?t able|unable|"
             r"never|not yet|no,? we)")
# "manage" and "connect" alone are about the meeting ("we didn't manage it"), not "manage to reply" or
# "connect to Teams".
_MEETING = (r"(meet|met|manage(d)?\b(?!\s+to\s+(?!meet|catch|talk|speak|chat|find|connect|get))|catch up|caught up|"
            r"connect(ed)?\b(?!\s+to\s+(teams|zoom|the|wifi|vpn))|speak|spoken|talk|chat|find (a )?time|make it|"
            r"get together)")
# "...talked to anyone", "...met before": a statement about people in general, not about this pair.
_NOT_ABOUT_US = r"(?!\w*\s+((to|with)\s+)?(anyone|anybody|many|much|before|previously))"
NOT_MET_WITH_SUBJECT = re.compile(
    r"\b(we|we've|i|i've|she|he|they)(\s+have|\s+still|\s+sadly|\s+just)*\s+(not|" + _NEGATION + r")\b.{0,30}?\b"
    + _MEETING + _NOT_ABOUT_US + r"|\b(didn'?t|did not|couldn'?t|could not|not|never)\s+(manage|get|got)\s+to\s+"
    r"(meet|catch up|talk|speak|chat)\b",
    re.IGNORECASE,
)
NOT_MET_LOOSE = re.compile(
    NOT_MET_WITH_SUBJECT.pattern + r"|\b" + _NEGATION + r"\b.{0,40}?\b" + _MEETING + _NOT_ABOUT_US
    + r"|^(not yet|unfortunately not|sadly not|afraid not|not this (month|time|round)|not managed)\b"
    r"|\bnever\s+heard\s+back\b",
    re.IGNORECASE,
)
_HAD_A_CHAT = r"had\s+(a|an|our|the)(\s+\w+){0,2}\s+(chat|call|coffee|conversation|meeting|catch[- ]?up|talk|natter|cuppa)"
# Not "I've met Kim on Teams before" ("we've met already" is a report, though).
EARLIER = r"\b(before|previously|last year|years ago)\b"
_NOT_EARLIER = r"(?!.{0,40}" + EARLIER + ")"
MET_PHRASE = re.compile(
    r"\b(we|i)(\s+have|'ve|\s+finally|\s+just|\s+already)?\s+(met|" + _HAD_A_CHAT + r")\b" + _NOT_EARLIER
    + r"|\b(we|i)\s+(did\s+meet|(finally\s+)?managed\s+to\s+(meet|catch\s+up|get\s+together))\b|\bmet up\b|"
    r"^(yes|yep|yeah),?\s+(we\s+)?did\b|^(finally\s+met|" + _HAD_A_CHAT + r")\b",
    re.IGNORECASE,
)
JOIN_PHRASE = re.compile(
    r"\b(like|want|love|keen|happy|wish)\s+to\s+(join|sign\s+up|take\s+part|participate)\b|\bsign\s+me\s+up\b|"
    r"\bcount\s+me\s+in\b",
    re.IGNORECASE,
)
PAUSE_PHRASE = re.compile(r"\b(like|want|wish)\s+to\s+(pause|take\s+a\s+break|have\s+a\s+break)\b", re.IGNORECASE)
SKIP_PHRASE = re.compile(r"\bleave\s+me\s+out\s+(of\s+)?(this|next)\b|\bsit\s+(this|next)\s+one\s+out\b", re.IGNORECASE)
# Not "I'd like to leave": "...early on Thursday" is as likely.
LEAVE_PHRASE = re.compile(
    r"\b(like|want|wish)\s+to\s+(unsubscribe|opt\s+out)\b|\bunsubscribe\s+me\b|\bopt\s+me\s+out\b|"
    r"\b(remove\s+me|take\s+me\s+off)\s*(please\b|[.!]|$|(from\s+)?(the|this|your)\s+(list|mailing list|scheme|programme)\b)|"
    r"\bstop\s+(emailing|sending|contacting|mailing)\s+me\b|\bno\s+more\s+emails\b",
    re.IGNORECASE,
)
REQUESTS = (("JOIN", JOIN_PHRASE), ("PAUSE", PAUSE_PHRASE), ("SKIP", SKIP_PHRASE), ("LEAVE", LEAVE_PHRASE))
NOT_AN_ANSWER = {"WORRIES", "PROBLEM", "PROBLEMS"}
LEAD_IN = {"HI", "HELLO", "HEY", "MORNING", "GOOD", "AFTERNOON", "THANKS", "THANK", "YOU", "OK", "OKAY", "ALL", "BOTH",
           "SADLY", "UNFORTUNATELY", "SORRY", "AFRAID", "OH"}
YESES = {"YES", "YEP", "YEAH", "YUP", "YEA", "INDEED"}
# "Yes, we're meeting on Friday" and "Yes - booked for the 14th" say they have not met yet.
NOT_YET = re.compile(r"\b(we're|we are|will|going to|booked|planned|scheduled|arranged|meeting on|next week)\b",
                     re.IGNORECASE)
WE_DID = re.compile(r"^(we|i)\s+did\b(?!\s*n)", re.IGNORECASE)
WORDS = re.compile(r"[A-Za-z']+")
SENTENCE_END = re.compile(r"[.!?\n]")


def natural_command(opening: str, chat: bool, did_you_meet: bool) -> tuple[str, str] | None:
    """(command, its words) for the first lines of a reply, or None. `chat`: written in a group's
    thread; `did_you_meet`: a direct answer to our check-in."""
    outcome = first_outcome(opening, loose=not chat)
    if outcome:
        return outcome
    if not chat:
        named = next((name for name, phrase in REQUESTS if phrase.search(opening)), None)
        if named:
            return named, ""
    return yes_or_no(opening.strip(" \t-*!.,")) if did_you_meet else None


def first_outcome(text: str, loose: bool) -> tuple[str, str] | None:
    """MET or NOT MET by whichever phrase comes first: "Yes we met, I didn't expect to talk for two
    hours!" reports a meeting, "We didn't meet, we had a call planned" does not."""
    met = _stated(MET_PHRASE, text)
    not_met = _stated(NOT_MET_LOOSE if loose else NOT_MET_WITH_SUBJECT, text)
    if not_met and (not met or not_met.start() <= met.start()):
        return "NOT MET", text
    return ("MET", "") if met else None


def _stated(phrase: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match that is not inside a question: "I think we've met before - at the offsite?"."""
    for found in phrase.finditer(text):
        end = SENTENCE_END.search(text, found.end())
        if not (end and end.group() == "?"):
            return found
    return None


def yes_or_no(text: str) -> tuple[str, str] | None:
    """"Yes thanks", "Thanks, yes!", "We did", "Sadly no", "No one replied to me"; not "No worries",
    nor "Yes, we're meeting on Friday"."""
    words = WORDS.findall(text[:80].upper())
    while words and words[0] in LEAD_IN and (len(words) == 1 or words[1] not in NOT_AN_ANSWER):
        words = words[1:]
    if WE_DID.match(text) or (words and words[0] in YESES):
        return None if NOT_YET.search(text) else ("MET", "")
    if not words or words[0] not in {"NO", "NOPE"} or (len(words) > 1 and words[1] in NOT_AN_ANSWER):
        return None
    return "NOT MET", text
