"""Find the command in a reply (pure): subject first, then the first lines of the new text.

Quoted text and signatures are cut first (`quotes.py`), so our own instructions
quoted back at us ("reply PAUSE to pause") never count. Commands in ordinary words
("Yes, we met!") are found by `phrases.py`.

Where the reply was written matters. Sent to us or answering a personal email, a
keyword opening the text is a command whatever follows ("skip pls, on leave"),
except LEAVE, STOP and FORGET, everyday verbs, which need punctuation or a command
word next ("Leave - moving to DWP", not "Leave it for now").
In a group's thread (`chat`) people write to each other, and a keyword often just
opens a sentence: "Leave it with me", "Skip the formalities", "Resume attached".
There a keyword counts when it stands alone, is typed in capitals, is followed by a
colon, or only by words a command takes ("Skip this month please"); MET and NOT MET,
which the introduction asks for, count with any words ("Met on Tuesday, useful"); and a
reply opening with one of the times offered ("2", "Option 2 works", "Tuesday is good")
is BOOK (`choosing.py`).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from inbound.choosing import choice
from inbound.phrases import EARLIER, WORDS, first_outcome, natural_command
from inbound.quotes import new_text
from meetings.words import MEETING_LINE, profile_in_words

ALIASES = {
    "JOIN": "JOIN", "CONFIRM": "CONFIRM", "HELP": "HELP", "MET": "MET", "SKIP": "SKIP", "PAUSE": "PAUSE",
    "RESUME": "RESUME", "LEAVE": "LEAVE", "UNSUBSCRIBE": "LEAVE", "STOP": "LEAVE", "PROFILE": "PROFILE",
    "SHARE": "SHARE", "FORGET": "FORGET", "MYDATA": "MYDATA", "SUBSCRIBE": "JOIN", "START": "JOIN", "UNSUB": "LEAVE",
    "NOT MET": "NOT MET", "MY DATA": "MYDATA", "NO TRIALS": "NO TRIALS", "NO TRIAL": "NO TRIALS", "NOTRIALS": "NO TRIALS",
    "BOOK": "BOOK", "RESCHEDULE": "RESCHEDULE", "REBOOK": "RESCHEDULE",
}
FILLERS = {"YES", "YEP", "YEAH", "HI", "HELLO", "OK", "OKAY", "SURE", "THANKS", "PLEASE", "DEAR", "HEY", "GOOD",
           "MORNING", "AFTERNOON", "EVENING", "ALL", "BOTH", "SORRY"}
SUBJECT_PREFIX = re.compile(
    r"^\s*(((re|aw|sv|antw|vs|fw|fwd|wg|tr|rv|vb|vl)\s*(\[\d+\])?\s*:|\[[^\]]{1,40}\])\s*)+", re.IGNORECASE
)
FORWARD_PREFIX = re.compile(r"\b(fw|fwd|wg|tr|rv|vb|vl)\b", re.IGNORECASE)
TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'})
GREETING_WORDS = {"HI", "HELLO", "HEY", "DEAR", "MORNING", "GOOD", "HIYA", "GREETINGS", "THANKS", "OK", "OKAY",
                  "YES", "SURE", "AFTERNOON", "EVENING", "ALL"}
LEADING = re.compile(
    r"[\W_]*(?:(?:" + "|".join(FILLERS) + r")\b[\W_]+)*(not\s+met\b|my\s+data\b|no\s+trials?\b|[A-Za-z]+)", re.IGNORECASE
)
STRICT_END = re.compile(r"\s*($|[-–—:,.!;])")
PAUSE_ARGS = re.compile(r"\s+((me|please)\s+)*(until|till|for\s+\d|\d)", re.IGNORECASE)
BARE = re.compile(r"[\W_]*(not\s+met\b|my\s+data\b|no\s+trials?\b|[A-Za-z]+)", re.IGNORECASE)
# Where a command's own words end and its reason begins: "Skip this month as I'm on leave".
REASON_START = re.compile(r"[-–—:,.!;?()]|\s(as|because|since|due to|but)\b", re.IGNORECASE)
URL_START = re.compile(r"\s*(https?://|www\.)", re.IGNORECASE)
# Words that may follow a keyword without making it a sentence: "Unsubscribe me from the list please".
COMMAND_WORDS = frozenset(
    "PLEASE ME THANKS THANK YOU NOW AGAIN TOO ALSO FROM THE THIS THAT NEXT MONTH MONTHS ROUND ROUNDS TIME ONE "
    "LIST MAILING SCHEME SERVICE PROGRAMME EMAILS EMAIL COFFEE ROULETTE UP IN MY DATA DETAILS PROFILE "
    "TODAY YESTERDAY LAST WEEK ONLINE BOTH ALL EVERYONE PLS THX TA CHEERS AND FOR A FEW BIT COUPLE OF WHILE SORRY "
    "EVERYTHING OPTION SLOT".split()
) | {name.upper() for name in (*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name)}
FREE_TEXT = {"NOT MET"}
MAX_LINES = 5
MAX_SUBJECT_WORDS = 5
MAX_NATURAL_CHARS = 400
MET_WORD = re.compile(r"\bmet\b", re.IGNORECASE)  # never a word of a profile: a reply that has it is about a meeting
ASKS_WHEN_AND_HOW = {"welcome", "profile"}  # our emails that ask for Available:, Meet:, Where:, Time zone:
SIGN_OFF = re.compile(r"^(thanks|thank you|many thanks|cheers|best|best wishes|regards|kind regards|all the best|ta)"
                      r"\b[\W_]*(\w+[\W_]*){0,2}$", re.IGNORECASE)
OUTCOME_QUESTIONS = {"checkin"}  # "Did you meet?"; the nudge asks whether they have found a time
# Everyday verbs: "Leave it for now", "Please stop emailing my old address". In chat only command words
# may follow them, even after a comma; elsewhere punctuation or a command word must come first.
CAREFUL = {"LEAVE", "STOP", "FORGET"}
REASON_WORDS = {"AS", "BECAUSE", "SINCE", "DUE"}  # REASON_START's words, for "Leave as I'm retiring"
CONFIRMING = {"confirm", "confirm_command"}  # our "please confirm" emails (not FORGET's: erasure wants the word)
YES_TO_CONFIRM = re.compile(r"^(yes|yep|ok|okay|sure|confirmed|i confirm|confirm)\b(?!\s+(but|not)\b)", re.IGNORECASE)
PAUSE_ANSWER = re.compile(r"^(until|till|til|for)\s+\S|^\d{1,2}\b", re.IGNORECASE)
LEFT_OUT = re.compile(r"\s+(me\s+(out|in|on|be|alone)|it)\b", re.IGNORECASE)
OUTCOME_OPENERS = re.compile(r"\s+(you|him|her|them|before|previously)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""
    body: str = ""
    said: bool = False  # found in ordinary words ("2 works for me"), not typed as a command


def find_command(subject: str, body: str, answering: frozenset[str] = frozenset(), chat: bool = False) -> Command | None:
    """`answering`: the kinds of our emails this one directly replies to (e.g. "checkin");
    `chat`: it was written in a group's thread, to the other members as much as to us."""
    text = new_text(body).translate(TYPOGRAPHIC)
    lines = [line for line in text.split("\n") if line]
    found = subject_command(subject.translate(TYPOGRAPHIC), chat)
    if found:
        return Command(found.name, found.args, text)
    found = body_command(lines, chat) or _answer_to_our_question(lines, answering) or \
        (_chosen_option(lines) if chat else None)
    if found or not lines or len(text) > MAX_NATURAL_CHARS:
        return found
    said = natural_command(" ".join(lines[:2]), chat, did_you_meet=bool(answering & OUTCOME_QUESTIONS))
    if said:
        return Command(said[0], said[1])
    return profile_answer(text) if answering & ASKS_WHEN_AND_HOW and not chat else None


def profile_answer(text: str) -> Command | None:
    """A reply to the welcome (or a PROFILE answer) that tells us when and how, without the word PROFILE:
    "Available: Tue mornings" lines, or a first paragraph all about it ("Mornings are best, I'm in Leeds").
    What follows (a sign-off, a signature) is not read."""
    paragraphs = [[line for line in block.split("\n") if line.strip()] for block in re.split(r"\n\s*\n", text)]
    said = next((lines for lines in paragraphs if lines and not all(is_greeting(line) for line in lines)), [])
    said = said[next((i for i, line in enumerate(said) if not is_greeting(line)), 0):]
    said = said[:next((i for i, line in enumerate(said) if i and SIGN_OFF.match(line)), len(said))]
    if first_outcome(" ".join(said), loose=True) or any(MET_WORD.search(line) for line in said):
        return None  # "Available: Fri, not met - she was on leave" is about a meeting, not a profile
    if any(MEETING_LINE.match(line) for line in said[:MAX_LINES]):
        return Command("PROFILE", "", "\n".join(said))
    in_words = profile_in_words("\n".join(said))
    return Command("PROFILE", "", "\n".join(in_words)) if in_words else None


def _chosen_option(lines: list[str]) -> Command | None:
    """"2 works for me, see you then!" in a group's thread, after any greeting: BOOK 2 (inbound/choosing.py)."""
    for index, line in enumerate(lines[:MAX_LINES]):
        picked = choice(line)
        if picked or not is_greeting(line):
            return Command("BOOK", picked, "\n".join(lines[index + 1:]), said=True) if picked else None
    return None


def _answer_to_our_question(lines: list[str], answering: frozenset[str]) -> Command | None:
    """"Yes" or "Confirmed" to a "please confirm" email; "until March" to "How long would you like to pause?"."""
    first = lines[0] if lines else ""
    if answering & CONFIRMING and YES_TO_CONFIRM.match(first):
        return Command("CONFIRM", "")
    if "pause_unclear" in answering and PAUSE_ANSWER.match(first):
        return Command("PAUSE", _polite_words_out(_rest(first, 0)))
    return None


def body_command(lines: list[str], chat: bool = False) -> Command | None:
    """A keyword opening the text (after any greeting lines), or standing alone on one of the next lines
    ("MET - thanks"). Signatures without a "-- " line put words such as "Stop Smoking Service" or
    "Help desk" in the first lines: those must not count."""
    opening = True
    for index, line in enumerate(lines[:MAX_LINES]):
        found = keyword_at_start(line, strict=not opening, chat=chat)
        if found:
            return Command(found.name, found.args, "\n".join(lines[index + 1:]))
        opening = opening and is_greeting(line)
    return None


def is_greeting(line: str) -> bool:
    """"Hi both,", "Dear Coffee Roulette,", "Thanks!": a short line before the real message."""
    words = WORDS.findall(line)
    return 0 < len(words) <= 4 and (words[0].upper() in GREETING_WORDS or line.rstrip().endswith(","))


def subject_command(subject: str, chat: bool = False) -> Command | None:
    """A short subject that starts with a command ("JOIN", "Re: PAUSE 3"). Longer ones are our own
    subjects coming back ("Re: Please confirm you'd like to join") or ordinary sentences."""
    prefixes = SUBJECT_PREFIX.match(subject)
    if prefixes and FORWARD_PREFIX.search(prefixes.group()):
        return None  # "Fwd: MET" passes on someone else's words; the forwarder is not reporting anything
    cleaned = SUBJECT_PREFIX.sub("", subject).strip()
    if len(WORDS.findall(cleaned)) > MAX_SUBJECT_WORDS:
        return None
    return keyword_at_start(cleaned, fillers=False, chat=chat)


def keyword_at_start(text: str, fillers: bool = True, strict: bool = False, chat: bool = False) -> Command | None:
    """The command a line starts with (after a "yes," or "hi"), and the rest of the line as its argument.
    `strict`: the line must look like a command, not a sentence ("MET - lovely chat", not "Stop Smoking")."""
    match = (LEADING if fillers else BARE).match(text)
    typed = " ".join(match.group(1).split()) if match else ""
    word = typed.upper()
    name = ALIASES.get(word)
    if not match or not name:
        return None
    rest = text[match.end():]
    if name == "LEAVE" and LEFT_OUT.match(rest):
        return None  # "leave me out this month" is SKIP in words; "leave me in", "leave it for now" are not LEAVE
    if strict:
        fits = _stands_alone(name, rest) and not (chat and word in CAREFUL and not _only_command_words(rest))
    elif chat:
        fits = _fits_chat(name, typed, rest)
    else:
        fits = word not in CAREFUL or typed.isupper() or _verb_not_sentence(rest)
    if not fits:
        return None
    args = _rest(text, match.end())
    return Command(name, _polite_words_out(args) if name == "PAUSE" else args)


def _stands_alone(name: str, rest: str) -> bool:
    """Only punctuation follows the keyword, or the usual arguments of NOT MET and PAUSE."""
    return bool(STRICT_END.match(rest)) or name in FREE_TEXT or (name == "PAUSE" and bool(PAUSE_ARGS.match(rest)))


def _fits_chat(name: str, typed: str, rest: str) -> bool:
    """Whether a keyword opening a line in a group's thread is a command rather than a sentence's first word."""
    said = rest if typed.upper() in CAREFUL else REASON_START.split(rest, maxsplit=1)[0]
    if (typed.isupper() and len(typed) > 1) or rest.lstrip().startswith(":") or _only_command_words(said):
        return True
    if name in ("MET", "NOT MET"):
        return not OUTCOME_OPENERS.match(rest) and not re.search(EARLIER, rest[:60], re.IGNORECASE)
    return (name == "PAUSE" and bool(PAUSE_ARGS.match(rest))) or (name == "SHARE" and bool(URL_START.match(rest)))


def _verb_not_sentence(rest: str) -> bool:
    """LEAVE, STOP or FORGET followed by punctuation or a command word ("Leave - moving to DWP",
    "Stop please", "Leave as I'm retiring"), not by the rest of a sentence ("Stop emailing my old address")."""
    first = WORDS.match(rest.lstrip()) if rest[:1].isspace() else None
    return first is None or first.group().upper() in COMMAND_WORDS | REASON_WORDS


def _only_command_words(rest: str) -> bool:
    return all(word.upper() in COMMAND_WORDS for word in WORDS.findall(rest))


def _polite_words_out(args: str) -> str:
    """"me please for 2 months" -> "for 2 months": what PAUSE's own wording parser reads."""
    return " ".join(word for word in args.split() if word.upper().strip(",.!") not in {"ME", "PLEASE", "THANKS"})


def _rest(text: str, start: int) -> str:
    return text[start:].strip(" \t-:,.;!–—")
