"""The README's first command: the demo runs on embedded defaults and its figures match its database."""
from __future__ import annotations

import mailbox
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from demo import PEOPLE
from models import Participant, Status
from models.db import make_engine, sessions


def test_demo_runs_and_reports_what_the_database_holds(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--keep", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'unmentoring.sqlite3'}")
    with sessions(engine)() as s:
        active = s.scalar(select(func.count()).where(Participant.status == Status.ACTIVE))
        pending = s.scalar(select(func.count()).where(Participant.status == Status.PENDING))
    engine.dispose()
    styles = [style for _, _, style in PEOPLE]
    assert active == styles.count("plain") + styles.count("html")
    assert active + pending == len(PEOPLE)
    assert f"'active': {active}" in result.output
    sent = mailbox.Maildir(tmp_path / "sent-mail", create=False)
    assert len(sent) == len(PEOPLE) + active + styles.count("confused")
