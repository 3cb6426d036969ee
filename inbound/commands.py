"""Find the command in a reply (pure): subject first, then the first lines of the new text.

Quoted text and signatures are cut before looking, so our own instructions quoted
back at us ("reply PAUSE to pause") never count. Besides the keywords, short
replies in the words people really use count for MET and NOT MET ("Yes, we met!",
"Sadly we didn't manage to meet"), and a plain yes/no answers "Did you meet?".

A keyword opening a sentence is often just a word: people reply to all in their
group's thread with "Leave it with me", "Skip the formalities", "Resume attached".
So a keyword counts when it stands alone, is written in capitals, or is followed
only by words a command takes ("Unsubscribe me please", "Skip this month").
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from mailer.render import CUT_LINE

ALIASES = {
    "JOIN": "JOIN", "CONFIRM": "CONFIRM", "HELP": "HELP", "MET": "MET", "SKIP": "SKIP", "PAUSE": "PAUSE",
    "RESUME": "RESUME", "LEAVE": "LEAVE", "UNSUBSCRIBE": "LEAVE", "STOP": "LEAVE", "PROFILE": "PROFILE",
    "SHARE": "SHARE", "FORGET": "FORGET", "MYDATA": "MYDATA", "SUBSCRIBE": "JOIN", "START": "JOIN",
}
FILLERS = {"YES", "YEP", "YEAH", "HI", "HELLO", "OK", "OKAY", "SURE", "THANKS", "PLEASE", "DEAR", "HEY"}
SUBJECT_PREFIX = re.compile(
    r"^\s*(((re|aw|sv|antw|vs|fw|fwd|wg|tr|rv|vb|vl)\s*(\[\d+\])?\s*:|\[[^\]]{1,40}\])\s*)+", re.IGNORECASE
)
FORWARD_PREFIX = re.compile(r"\b(fw|fwd|wg|tr|rv|vb|vl)\b", re.IGNORECASE)
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
TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'})
GREETING_WORDS = {"HI", "HELLO", "HEY", "DEAR", "MORNING", "GOOD", "HIYA", "GREETINGS", "THANKS", "OK", "OKAY",
                  "YES", "SURE", "AFTERNOON", "EVENING", "ALL"}
WORDS = re.compile(r"[A-Za-z']+")
LEADING = re.compile(
    r"[\W_]*(?:(?:" + "|".join(FILLERS) + r")\b[\W_]+)*(not\s+met\b|my\s+data\b|[A-Za-z]+)", re.IGNORECASE
)
# A negated meeting with we/I/they as its subject ("Sadly we didn't manage to meet"), not any
# negation near a verb: "I've never met anyone from NHS England" is chat, not an outcome.
NOT_MET_PHRASE = re.compile(
    r"\b(we|we've|i|i've|she|he|they)(\s+have|\s+still|\s+sadly|\s+just)*\s+(didn'?t|did not|haven'?t|have not|not|"
    r"couldn'?t|could not|weren'?t able to|wasn'?t able to|were unable to|was unable to|never|have yet to)\b.{0,30}?"
    r"\b(meet|met|manage[d]?|catch up|caught up|connect(ed)?|speak|spoken|talk(ed)?|chat(ted)?|find (a )?time|"
    r"make it|get together)\b(?!\s+((to|with)\s+)?(anyone|anybody|many|much|before))|"
    r"\b(didn'?t|did not|couldn'?t|could not|not|never)\s+(manage|get|got)\s+to\s+(meet|catch up|talk|speak|chat)\b|"
    r"^(not yet|no,? we|unfortunately not|sadly not|afraid not)\b",
    re.IGNORECASE,
)
MET_PHRASE = re.compile(
    r"\b(we|i)(\s+have|'ve|\s+finally|\s+just|\s+already)?\s+(met(?!\s+(before|previously))|had\s+(a|an|our|the)(\s+\w+){0,2}\s+"
    r"(chat|call|coffee|conversation|meeting|catch[- ]?up|talk|natter|cuppa))\b|\b(we|i)\s+did\s+meet\b|\bmet up\b|"
    r"^(yes|yep|yeah),?\s+(we\s+)?did\b",
    re.IGNORECASE,
)
PAUSE_PHRASE = re.compile(r"\b(like|want|wish)\s+to\s+(pause|take\s+a\s+break|have\s+a\s+break)\b", re.IGNORECASE)
SKIP_PHRASE = re.compile(r"\bleave\s+me\s+out\s+(of\s+)?(this|next)\b|\bsit\s+(this|next)\s+one\s+out\b", re.IGNORECASE)
# Not "I'd like to leave": "...early on Thursday" is as likely, and in a group's thread it would act at once.
LEAVE_PHRASE = re.compile(
    r"\b(like|want|wish)\s+to\s+(unsubscribe|opt\s+out)\b|\bunsubscribe\s+me\b|\bopt\s+me\s+out\b|"
    r"\b(remove\s+me|take\s+me\s+off)\s*(please\b|[.!]|$|(from\s+)?(the|this|your)\s+(list|mailing list|scheme|programme)\b)|"
    r"\bstop\s+(emailing|sending|contacting|mailing)\s+me\s*(please\b|[.!]|$)|\bno\s+more\s+emails\s*(please\b|[.!]|$)",
    re.IGNORECASE,
)
JOIN_PHRASE = re.compile(
    r"\b(like|want|love|keen|happy|wish)\s+to\s+(join|sign\s+up|take\s+part|participate)\b|\bsign\s+me\s+up\b|"
    r"\bcount\s+me\s+in\b",
    re.IGNORECASE,
)
PHRASES = (("JOIN", JOIN_PHRASE), ("PAUSE", PAUSE_PHRASE), ("SKIP", SKIP_PHRASE), ("LEAVE", LEAVE_PHRASE))
STRICT_END = re.compile(r"\s*($|[-–—:,.!;])")
PAUSE_ARGS = re.compile(r"\s+((me|please)\s+)*(until|till|for\s+\d|\d)", re.IGNORECASE)
BARE = re.compile(r"[\W_]*(not\s+met\b|my\s+data\b|[A-Za-z]+)", re.IGNORECASE)
SENTENCE_END = re.compile(r"[-–—:,.!;?()]")
URL_START = re.compile(r"\s*(https?://|www\.)", re.IGNORECASE)
# Words that may follow a keyword without making it a sentence: "Unsubscribe me from the list please".
COMMAND_WORDS = frozenset(
    "PLEASE ME THANKS THANK YOU NOW AGAIN TOO ALSO FROM THE THIS THAT NEXT MONTH MONTHS ROUND ROUNDS TIME ONE "
    "LIST MAILING SCHEME SERVICE PROGRAMME EMAILS EMAIL COFFEE ROULETTE UP IN MY DATA DETAILS PROFILE "
    "TODAY YESTERDAY LAST WEEK ONLINE BOTH ALL EVERYONE".split()
) | {name.upper() for name in (*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name)}
FREE_TEXT = {"NOT MET"}
MAX_LINES = 5
MAX_SUBJECT_WORDS = 5
MAX_NATURAL_CHARS = 400
OUTCOME_QUESTIONS = {"checkin"}  # "Did you meet?"; the nudge asks whether they have found a time
CAREFUL = {"LEAVE", "STOP", "FORGET"}  # everyday words too: only command words may follow them
ANSWER_FOLLOWS = re.compile(r"\s*([^\w\s]|$)|\s+(we|i|she|he|they|not|did|didn'?t|sadly|unfortunately)\b",
                            re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""
    body: str = ""


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


def find_command(subject: str, body: str, answering: frozenset[str] = frozenset()) -> Command | None:
    """`answering` holds the kinds of our emails this one replies to (e.g. "checkin")."""
    text = new_text(body).translate(TYPOGRAPHIC)
    lines = [line for line in text.split("\n") if line]
    found = subject_command(subject.translate(TYPOGRAPHIC))
    if found:
        return Command(found.name, found.args, text)
    return body_command(lines) or natural_outcome(text, lines, answering)


def body_command(lines: list[str]) -> Command | None:
    """A keyword opening the text (after any greeting lines), or standing alone on one of the next lines
    ("MET - thanks"). Signatures without a "-- " line put words such as "Stop Smoking Service" or
    "Help desk" in the first lines: those must not count."""
    opening = True
    for index, line in enumerate(lines[:MAX_LINES]):
        found = keyword_at_start(line, strict=not opening)
        if found:
            return Command(found.name, found.args, "\n".join(lines[index + 1:]))
        opening = opening and is_greeting(line)
    return None


def is_greeting(line: str) -> bool:
    """"Hi both,", "Dear Coffee Roulette,", "Thanks!": a short line before the real message."""
    words = WORDS.findall(line)
    return 0 < len(words) <= 4 and (words[0].upper() in GREETING_WORDS or line.rstrip().endswith(","))


def subject_command(subject: str) -> Command | None:
    """A short subject that starts with a command ("JOIN", "Re: PAUSE 3"). Longer ones are our own
    subjects coming back ("Re: Please confirm you'd like to join") or ordinary sentences."""
    prefixes = SUBJECT_PREFIX.match(subject)
    if prefixes and FORWARD_PREFIX.search(prefixes.group()):
        return None  # "Fwd: MET" passes on someone else's words; the forwarder is not reporting anything
    cleaned = SUBJECT_PREFIX.sub("", subject).strip()
    if len(WORDS.findall(cleaned)) > MAX_SUBJECT_WORDS:
        return None
    return keyword_at_start(cleaned, fillers=False)


def keyword_at_start(text: str, fillers: bool = True, strict: bool = False) -> Command | None:
    """The command a line starts with (after a "yes," or "hi"), and the rest of the line as its argument.
    `strict`: the line must look like a command, not a sentence ("MET - lovely chat", not "Stop Smoking")."""
    match = (LEADING if fillers else BARE).match(text)
    typed = " ".join(match.group(1).split()) if match else ""
    word = typed.upper()
    name = {"NOT MET": "NOT MET", "MY DATA": "MYDATA"}.get(word) or ALIASES.get(word)
    if not match or not name:
        return None
    rest = text[match.end():]
    if word in CAREFUL and not typed.isupper():
        fits = all(w.upper() in COMMAND_WORDS for w in WORDS.findall(rest))
    else:
        fits = _stands_alone(name, rest) or (not strict and _takes(name, typed, rest))
    if not fits:
        return None
    args = _rest(text, match.end())
    return Command(name, _polite_words_out(args) if name == "PAUSE" else args)


def _stands_alone(name: str, rest: str) -> bool:
    """Only punctuation follows the keyword, or the usual arguments of NOT MET and PAUSE."""
    return bool(STRICT_END.match(rest)) or name in FREE_TEXT or (name == "PAUSE" and bool(PAUSE_ARGS.match(rest)))


def _takes(name: str, typed: str, rest: str) -> bool:
    """Whether what follows an opening keyword is its argument rather than the rest of a sentence:
    the keyword was typed in capitals, a link follows SHARE, or only command words follow it. PAUSE
    takes any words: unclear ones get asked about ("how long?") and change nothing."""
    if name == "PAUSE" or typed.isupper() and len(typed) > 1 or (name == "SHARE" and URL_START.match(rest)):
        return True
    clause = SENTENCE_END.split(rest, maxsplit=1)[0]
    return all(word.upper() in COMMAND_WORDS for word in WORDS.findall(clause))


def _polite_words_out(args: str) -> str:
    """"me please for 2 months" -> "for 2 months": what PAUSE's own wording parser reads."""
    return " ".join(word for word in args.split() if word.upper().strip(",.!") not in {"ME", "PLEASE", "THANKS"})


def natural_outcome(text: str, lines: list[str], answering: frozenset[str]) -> Command | None:
    if not lines or len(text) > MAX_NATURAL_CHARS:
        return None
    opening = " ".join(lines[:2])
    outcome = _first_outcome(opening)
    if outcome:
        return outcome
    named = next((name for name, phrase in PHRASES if phrase.search(opening)), None)
    if named:
        return Command(named, "")
    if answering & OUTCOME_QUESTIONS:
        return _yes_or_no(opening.strip(" \t-*!.,"))
    return None


def _yes_or_no(text: str) -> Command | None:
    """A plain answer to "Did you meet?": "Yes!", "No, she was off sick"; not "No worries, see you then"."""
    first = WORDS.match(text)
    word = first.group().upper() if first else ""
    if not first or word not in {"YES", "YEP", "YEAH", "NO", "NOPE"} or not ANSWER_FOLLOWS.match(text, first.end()):
        return None
    return Command("MET", "") if word.startswith("Y") else Command("NOT MET", _rest(text, first.end()))


def _first_outcome(text: str) -> Command | None:
    """MET or NOT MET by whichever phrase comes first: "Yes we met, I didn't expect to talk for two
    hours!" reports a meeting, "We didn't meet, we had a call planned" does not."""
    met, not_met = MET_PHRASE.search(text), NOT_MET_PHRASE.search(text)
    if not_met and (not met or not_met.start() <= met.start()):
        return Command("NOT MET", text)
    return Command("MET", "") if met else None


def _rest(text: str, start: int) -> str:
    return text[start:].strip(" \t-:,.;!–—")
