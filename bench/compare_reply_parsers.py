"""Compare reply-parsing libraries with our own `new_text` on the corpus of real replies.

Run from the repository root:

    .venv/bin/python bench/compare_reply_parsers.py

Method. Every message of tests/corpus/ that the manifest gives a `command` (a person's reply, not a
robot or a bounce) is filled in the way tests/test_corpus.py does it and read with our own
`inbound.parse.parse`, so every parser gets the same decoded body (HTML already turned into text).
Each parser then extracts the sender's new text from that body:

- ours: `inbound.quotes.new_text`;
- email-reply-parser (Zapier): `EmailReplyParser.parse_reply`;
- mail-parser-reply: `EmailReplyParser(languages=...).read(body).replies[0]`, both its `content`
  (what `parse_reply` returns, signatures kept) and its `body` (signatures and disclaimers cut);
- talon (Mailgun): `talon.quotations.extract_from_plain` (its machine-learnt signature part does not
  import with a current scikit-learn, and is not needed to cut quotes).

Fairness: `find_command` calls `new_text` on whatever it is given, so a library's text would be cut a
second time by our own rules, and our rules would get the credit. Here the keyword finder runs with
`new_text` replaced by `str.strip` (everything else of `find_command` unchanged: subject first, then
the opening lines, then the natural phrases), so each parser is judged on its own extraction. For ours
this gives exactly what `find_command(subject, body)` gives, which the script checks. The column
"recut" counts the extractions our `new_text` would still have changed.

Checks per message: the command found equals the manifest's; every `says` phrase is in the extraction
(case-insensitive, whitespace normalised); and no instruction of our own emails ("one of you reply",
"Reply PAUSE", ...) is in it, since those only exist in the quoted part. A message passes when all
three hold. Time is the extraction alone, mean over several passes.

"library -> ours" rows: the library's extraction is used when the keyword finder finds a command in
it; otherwise ours is used (its text and its command), i.e. adopting the library with our code as the
fallback for the styles it misses.
"""
from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inbound import commands  # noqa: E402
from inbound.commands import find_command  # noqa: E402
from inbound.quotes import new_text  # noqa: E402
from inbound.parse import Unreadable, parse  # noqa: E402
from tests.test_corpus import MANIFEST, QUOTED, load, reading_of  # noqa: E402

Extractor = Callable[[str], str]
LANGUAGES = ["en", "de", "fr", "es", "nl", "sv"]  # the languages of the corpus
PASSES = 20  # extraction passes over the corpus for timing
# Phrases only our own emails contain: finding one in an extraction means the quote leaked into it.
INSTRUCTIONS = (*QUOTED, "reply MET", "reply NOT MET", "Reply PAUSE", "reply RESUME", "reply JOIN",
                "reply PROFILE", "Reply FORGET", "Reply MYDATA", "Reply with one of these")


@dataclass(frozen=True)
class Case:
    file: str
    subject: str
    body: str
    answering: frozenset[str]
    chat: bool
    expected: str
    says: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    file: str
    text: str
    command: str
    expected: str
    missing: tuple[str, ...]
    leaked: tuple[str, ...]
    recut: bool

    @property
    def command_ok(self) -> bool:
        return self.command == self.expected

    @property
    def passed(self) -> bool:
        return self.command_ok and not self.missing and not self.leaked


@dataclass(frozen=True)
class Run:
    name: str
    outcomes: list[Outcome]
    ms_per_message: float


def load_cases() -> tuple[list[Case], list[str]]:
    """The people's replies of the corpus, parsed; and the files our parser could not read."""
    cases, unreadable = [], []
    for entry in MANIFEST:
        if "command" not in entry:
            continue
        try:
            mail = parse(load(entry["file"]))
        except Unreadable:
            unreadable.append(entry["file"])
            continue
        says = entry["says"] if isinstance(entry["says"], list) else [entry["says"]]
        answering, chat = reading_of(entry)
        cases.append(Case(entry["file"], mail.subject, mail.body, answering, chat, entry["command"], tuple(says)))
    return cases, unreadable


def extractors() -> tuple[dict[str, Extractor], dict[str, str]]:
    """The parsers to compare, and why any could not be loaded."""
    found: dict[str, Extractor] = {"ours (new_text)": new_text}
    missing: dict[str, str] = {}
    try:
        from email_reply_parser import EmailReplyParser as Zapier
        found[f"email-reply-parser {metadata.version('email_reply_parser')}"] = Zapier.parse_reply
    except ImportError as exc:
        missing["email-reply-parser"] = str(exc)
    try:
        from mailparser_reply import EmailReplyParser
        parser = EmailReplyParser(languages=LANGUAGES)
        version = metadata.version("mail-parser-reply")

        def mpr_content(body: str) -> str:
            return parser.parse_reply(body) or ""

        def mpr_body(body: str) -> str:
            replies = parser.read(body).replies
            return replies[0].body if replies else ""

        found[f"mail-parser-reply {version} (parse_reply)"] = mpr_content
        found[f"mail-parser-reply {version} (.body)"] = mpr_body
    except ImportError as exc:
        missing["mail-parser-reply"] = str(exc)
    try:
        from talon import quotations
        found[f"talon {metadata.version('talon')} (extract_from_plain)"] = quotations.extract_from_plain
    except ImportError as exc:
        missing["talon"] = str(exc)
    return found, missing


@contextmanager
def judged_as_given() -> Iterator[None]:
    """`find_command` on the text as given: its own call of `new_text` becomes a plain strip."""
    with mock.patch.object(commands, "new_text", str.strip):
        yield


def command_in(case: Case, text: str) -> str:
    with judged_as_given():
        found = find_command(case.subject, text, case.answering, chat=case.chat)
    return found.name if found else ""


def normalised(text: str) -> str:
    return " ".join(text.translate(commands.TYPOGRAPHIC).split()).casefold()


def judge(case: Case, text: str, command: str) -> Outcome:
    flat = normalised(text)
    return Outcome(
        file=case.file, text=text, command=command, expected=case.expected,
        missing=tuple(s for s in case.says if normalised(s) not in flat),
        leaked=tuple(q for q in INSTRUCTIONS if normalised(q) in flat),
        recut=new_text(text).strip() != text.replace("\r\n", "\n").strip(),
    )


def timed(extract: Extractor, cases: list[Case]) -> tuple[list[str], float]:
    """Each case's extraction (line ends made "\\n": talon returns "\\r\\n", which our keyword finder
    would read as blank lines), and the mean time per message in ms over PASSES passes."""
    texts = [extract(case.body).replace("\r\n", "\n") for case in cases]
    start = time.perf_counter()
    for _ in range(PASSES):
        for case in cases:
            extract(case.body)
    return texts, (time.perf_counter() - start) * 1000 / (PASSES * len(cases))


def evaluate(name: str, extract: Extractor, cases: list[Case]) -> Run:
    texts, ms = timed(extract, cases)
    return Run(name, [judge(case, text, command_in(case, text)) for case, text in zip(cases, texts)], ms)


def library_then_ours(library: Run, ours: Run) -> Run:
    """The library's text when a command is found in it, else ours. Time: the library's plus ours
    for the share of messages that fall back."""
    outcomes = [lib if lib.command else own for lib, own in zip(library.outcomes, ours.outcomes)]
    share = sum(not lib.command for lib in library.outcomes) / len(outcomes)
    return Run(f"{library.name} -> ours", outcomes, library.ms_per_message + share * ours.ms_per_message)


def check_ours_matches_find_command(cases: list[Case], ours: Run) -> list[str]:
    """Files where judging our extraction differs from the real `find_command(subject, body)`."""
    differ = []
    for case, outcome in zip(cases, ours.outcomes):
        real = find_command(case.subject, case.body, case.answering, chat=case.chat)
        if (real.name if real else "") != outcome.command:
            differ.append(case.file)
    return differ


def why(outcome: Outcome) -> str:
    reasons = []
    if not outcome.command_ok:
        reasons.append(f"command {outcome.command or '(none)'!r}, want {outcome.expected or '(none)'!r}")
    if outcome.missing:
        reasons.append("lost says")
    if outcome.leaked:
        reasons.append(f"quote leaked ({outcome.leaked[0]!r})")
    excerpt = re.sub(r"\s+", " ", outcome.text).strip()[:60]
    return f"{'; '.join(reasons)}: \"{excerpt}\""


def table(runs: list[Run]) -> str:
    n = len(runs[0].outcomes)
    rows = ["| parser | commands right | 'says' kept | no quote leaked | all three | recut | ms/message |",
            "|---|---|---|---|---|---|---|"]
    for run in runs:
        o = run.outcomes
        rows.append(
            f"| {run.name} | {sum(x.command_ok for x in o)}/{n} | {sum(not x.missing for x in o)}/{n} | "
            f"{sum(not x.leaked for x in o)}/{n} | {sum(x.passed for x in o)}/{n} | {sum(x.recut for x in o)} | "
            f"{run.ms_per_message:.3f} |"
        )
    return "\n".join(rows)


def failures(run: Run) -> list[str]:
    return [f"  {o.file}: {why(o)}" for o in run.outcomes if not o.passed]


def main() -> int:
    cases, unreadable = load_cases()
    found, missing = extractors()
    runs = [evaluate(name, extract, cases) for name, extract in found.items()]
    ours, libraries = runs[0], runs[1:]
    runs += [library_then_ours(lib, ours) for lib in libraries]

    print(f"{len(cases)} people's replies from tests/corpus "
          f"({len(unreadable)} unreadable by our parser, left out: {', '.join(unreadable) or 'none'})\n")
    print(table(runs))
    for name, reason in missing.items():
        print(f"\nnot measured: {name}: {reason}")
    differ = check_ours_matches_find_command(cases, ours)
    print(f"\nours judged as given == find_command(subject, body): {'yes' if not differ else differ}")
    for run in runs:
        wrong = failures(run)
        print(f"\n{run.name}: {len(wrong)} wrong" + (":" if wrong else ""))
        if wrong:
            print("\n".join(wrong))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
