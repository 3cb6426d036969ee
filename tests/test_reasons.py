"""NOT MET reasons about leave or illness are "away", not "busy": new reports and stored ones (both databases)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from sqlalchemy import select

from demo.simulate import NOT_MET_WORDS
from inbound.reasons import label, reason_group
from models import Outcome
from models.db import _alembic_config, create_private, make_engine, sessions
from tests.old_schema import OldTables

AT = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


def test_the_demos_reasons_each_land_in_their_own_group() -> None:
    assert [reason_group(w.split("-", 1)[-1].split(",", 1)[-1]) for w in NOT_MET_WORDS] == \
        ["away", "no reply", "busy", "rescheduled"]
    assert label("away") == "away (leave, illness)" and label("") == "no reason given"


def test_stored_reasons_about_leave_move_to_away_on_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        create_private(Path(str(engine.url.database)))
    config = _alembic_config(engine)
    command.upgrade(config, "0011")
    with engine.begin() as conn:
        old = OldTables(conn, AT)
        old.put("participants", id=1, email="a@x.example", status="active", reply_token="ta", created_at=AT,
                updated_at=AT)
        old.put("rounds", id=1, number=1, seed=1, opened_at=AT, closes_at=AT)
        old.put("matches", id=1, round_id=1, token="tm", intro_message_id="", created_at=AT)
        old.put("match_members", match_id=1, participant_id=1)
        for n, (reason, group) in enumerate([("she was on leave", "busy"), ("too busy", "busy"),
                                             ("off sick", "busy"), ("never replied", "no reply")], 1):
            old.put("outcomes", id=n, match_id=1, met=False, reason=reason, reason_group=group, reported_at=AT)
    command.upgrade(config, "head")
    with sessions(engine)() as s:
        assert s.scalars(select(Outcome.reason_group).order_by(Outcome.id)).all() == \
            ["away", "busy", "away", "no reply"]
    engine.dispose()
