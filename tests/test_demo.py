"""The README's first command: the demo runs on embedded defaults and what it reports matches its database."""
from __future__ import annotations

import mailbox
import os
import re
import subprocess
from collections import Counter
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from demo import shell_command
from models import CalendarReply, InboundMessage, Match, MatchMember, OutboundMessage, Outcome, OutStatus, Participant, Round
from models.db import make_engine, sessions


def test_a_small_demo_runs_and_reports_what_the_database_holds(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--people", "12", "--rounds", "2", "--seed", "3", "--keep",
                                       str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'unmentoring.sqlite3'}")
    with sessions(engine)() as s:
        by_status = dict(s.execute(select(Participant.status, func.count()).group_by(Participant.status)).all())
        sent = s.scalar(select(func.count()).where(OutboundMessage.status == OutStatus.SENT))
        rounds = s.scalar(select(func.count(Round.id)))
        sizes = s.execute(select(func.count()).select_from(MatchMember).group_by(MatchMember.match_id)).scalars().all()
        answered_robots = s.scalar(select(func.count(OutboundMessage.id)).join(
            InboundMessage, InboundMessage.id == OutboundMessage.in_reply_to).where(
            InboundMessage.action.in_(["ignored-robot", "bounce"])))
        groups = s.scalar(select(func.count(Match.id)))
        booked = s.scalar(select(func.count(Match.id)).where(Match.booking_state == "booked"))
        accepted = s.scalar(select(func.count(CalendarReply.id)).where(CalendarReply.applied,
                                                                       CalendarReply.partstat == "ACCEPTED"))
        told_us = s.scalar(select(func.count(Participant.id)).where(Participant.available != ""))
    engine.dispose()
    assert booked and accepted and told_us, "people say when they can meet, book a time and accept the invitation"
    assert f"{booked} of {groups} groups booked a time by email; calendars sent {accepted} acceptance" in result.output
    printed = dict((status, int(n)) for n, status in re.findall(r"(\d+) (active|paused|pending|left|suspended)",
                                                                 result.output.split("Participants:")[1]))
    sent_mail = mailbox.Maildir(tmp_path / "sent-mail", create=False)
    welcomed = {m["To"] for m in sent_mail if str(m["Subject"]).startswith("Welcome to ")}
    assert printed == by_status and sum(printed.values()) == len(welcomed) + printed.get("pending", 0) <= 12, \
        "everyone who confirmed is there; who never did is erased after service.unconfirmed_days"
    assert f"The service sent {sent} emails" in result.output
    assert len(sent_mail) == sent
    assert rounds == 2 and groups > 0 and set(sizes) <= {2, 3}
    assert answered_robots == 0
    report = tmp_path / "report" / "index.html"
    assert f"Open the network report in a browser: {report}" in result.output
    assert report.exists() and "<svg" in report.read_text()
    [hint] = re.findall(r"Look around with: (.*)", result.output)
    shown = subprocess.run(hint, shell=True, cwd=os.getcwd(), capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")})
    assert shown.returncode == 0 and "round 2 (seed" in shown.stdout, f"`{hint}` from the demo's shell: {shown.stderr}"


def test_the_demos_hint_names_a_program_the_shell_finds(tmp_path: Path) -> None:
    program = tmp_path / "project" / ".venv" / "bin" / "unmentoring"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    python = str(program.parent / "python")
    assert shell_command("pytest", python, tmp_path / "project") == ".venv/bin/unmentoring"
    assert shell_command(str(program), python, tmp_path / "project") == ".venv/bin/unmentoring"
    assert shell_command(str(program), python, tmp_path / "elsewhere") == str(program)
    assert shell_command("pytest", str(tmp_path / "python"), tmp_path) == "unmentoring", "nothing better to say"


def _what_happened(folder: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every email sent (kind, recipients, subject), every reply's decision, every group's outcome and
    everyone's status, in order."""
    engine = make_engine(f"sqlite:///{folder / 'data' / 'unmentoring.sqlite3'}")
    with sessions(engine)() as s:
        happened = {
            "sent": s.execute(select(OutboundMessage.kind, OutboundMessage.recipients, OutboundMessage.subject)
                              .order_by(OutboundMessage.id)).all(),
            "read": s.execute(select(InboundMessage.sender, InboundMessage.action).order_by(InboundMessage.id)).all(),
            "groups": s.execute(select(Round.number, Round.seed, Match.id).join(Match, Match.round_id == Round.id)
                                .order_by(Match.id)).all(),
            "members": s.execute(select(MatchMember.match_id, Participant.email).join(Participant)
                                 .order_by(MatchMember.match_id, Participant.email)).all(),
            "outcomes": s.execute(select(Outcome.match_id, Outcome.met, Outcome.reason).order_by(Outcome.id)).all(),
            "people": s.execute(select(Participant.email, Participant.status).order_by(Participant.id)).all(),
        }
    engine.dispose()
    return {k: [tuple(r) for r in v] for k, v in happened.items()}


def test_the_same_seed_gives_the_same_demo(tmp_path: Path) -> None:
    runs = []
    for name in ("first", "second"):
        result = CliRunner().invoke(main, ["demo", "--people", "10", "--rounds", "2", "--seed", "7", "--keep",
                                           str(tmp_path / name)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        runs.append(_what_happened(tmp_path / name))
    first, second = runs
    assert first["sent"] and first["outcomes"], "the demo made no groups or outcomes to compare"
    for part in first:
        assert first[part] == second[part], f"{part} differ between two runs with seed 7"


CALENDAR_KINDS = ("invitation", "uninvited")
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv)\s*:\s*)+", re.IGNORECASE)


def _gmail_subject(subject: str) -> str:
    """A subject as Gmail compares it: without its Re:/Fwd: prefixes, spacing and case."""
    return " ".join(_PREFIX.sub("", str(make_header(decode_header(subject)))).split()).lower()


def _ids(value: object) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def _parents(msg: Message) -> list[str]:
    """References, else In-Reply-To, as JWZ's algorithm reads them."""
    return _ids(msg["References"]) or _ids(msg["In-Reply-To"])


def _jwz_threads(mails: list[Message]) -> dict[str, str]:
    """Thread root by Message-ID as mutt/JWZ build it: each References chain links its ids, parent to
    child, with a placeholder for an id not in the mailbox; a thread is what those links join."""
    root: dict[str, str] = {}

    def find(x: str) -> str:
        root.setdefault(x, x)
        while root[x] != x:
            x = root[x]
        return x

    for msg in mails:
        chain = [*_parents(msg), str(msg["Message-ID"])]
        for parent, child in zip(chain, chain[1:]):
            root[find(child)] = find(parent)
    return {str(msg["Message-ID"]): find(str(msg["Message-ID"])) for msg in mails}


def _gmail_threads(mails: list[Message]) -> dict[str, str]:
    """Conversation by Message-ID as Gmail groups it: a message joins the conversation of an earlier one
    it refers to only if their subjects match once Re:/Fwd: are stripped; otherwise it starts one."""
    conversation: dict[str, str] = {}
    subjects: dict[str, str] = {}
    for msg in mails:
        own, subject = str(msg["Message-ID"]), _gmail_subject(str(msg["Subject"]))
        joined = [conversation[p] for p in _ids(msg["References"]) + _ids(msg["In-Reply-To"])
                  if p in conversation and subjects[p] == subject]
        conversation[own], subjects[own] = (joined[0] if joined else own), subject
    return conversation


def test_every_groups_mail_and_its_acknowledgements_are_one_thread_in_mutt_and_gmail(tmp_path: Path) -> None:
    """A whole demo: each member's copies of their group's introduction, nudge and check-in, and the
    acknowledgements of what they reported in that thread, make one thread for them, however it is built.
    Calendar invitations keep a subject of their own ("Invitation: ...", as calendar mail does), so only
    the References-based readers (mutt) put them in the thread; Gmail shows them apart, as it does any
    calendar invitation."""
    result = CliRunner().invoke(main, ["demo", "--people", "12", "--rounds", "2", "--seed", "5", "--keep",
                                       str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    sent = sorted(mailbox.Maildir(tmp_path / "sent-mail", create=False), key=lambda m: parsedate_to_datetime(m["Date"]))
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'unmentoring.sqlite3'}")
    with sessions(engine)() as s:
        group_mail = s.execute(select(Match.id, OutboundMessage.message_id).join(
            Match, Match.token == OutboundMessage.token)).all()
        acknowledged = s.execute(select(Outcome.match_id, OutboundMessage.message_id, Participant.email)
                                 .join(OutboundMessage, OutboundMessage.in_reply_to == Outcome.inbound_id)
                                 .join(Participant, Participant.id == OutboundMessage.participant_id)).all()
        members = s.execute(select(MatchMember.match_id, Participant.email).join(Participant)).all()
    engine.dispose()
    threads: dict[tuple[int, str], set[str]] = {}
    for match_id, email in members:
        threads[(match_id, email)] = {mid for m, mid in group_mail if m == match_id}
    for match_id, message_id, email in acknowledged:
        threads[(match_id, email)].add(message_id)
    kinds = Counter(mid[1:].split(".")[0] for ids in threads.values() for mid in ids)
    assert kinds["intro"] and kinds["nudge"] and kinds["checkin"] and kinds["outcome_thanks"], kinds
    for (match_id, email), ids in threads.items():
        mails = [m for m in sent if email in {a for _, a in getaddresses(m.get_all("To", []))}]
        assert ids <= {str(m["Message-ID"]) for m in mails}, f"{email} did not get all of group {match_id}'s mail"
        own_subject = {i for i in ids if i[1:].split(".")[0] in CALENDAR_KINDS}
        for name, built, these in (("mutt", _jwz_threads(mails), ids), ("Gmail", _gmail_threads(mails), ids - own_subject)):
            assert len({built[i] for i in these}) == 1, f"group {match_id}'s mail is split in {email}'s {name}"
