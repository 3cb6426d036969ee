"""The README's first command: the demo runs on embedded defaults and what it reports matches its database."""
from __future__ import annotations

import mailbox
import os
import re
import subprocess
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from demo import shell_command
from models import InboundMessage, Match, MatchMember, OutboundMessage, Outcome, OutStatus, Participant, Round
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
    engine.dispose()
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
