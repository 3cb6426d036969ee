"""Real mail clients' replies, auto-replies and bounces (tests/corpus/), each through Dovecot and one `tick`.

Every message is a reply to our own mail, so its quoted part holds our instructions ("reply MET, or
NOT MET ... Reply PAUSE") that must never count. tests/corpus/manifest.toml says what each must do.
Every message runs on SQLite; the ones marked `postgresql = true` (one or two of each kind) also run on
PostgreSQL, which keeps this file around 20 s. The pure checks at the end read the same files without
any server, so a failure there points at parsing rather than handling.
"""
from __future__ import annotations

import base64
import json
import random
import shutil
import sqlite3
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from cli import main

from inbound.bounces import looks_like_bounce
from inbound.commands import find_command
from inbound.quotes import new_text
from inbound.parse import parse
from inbound.robots import robot_reason
from models import InboundMessage, Match, OutboundMessage, Outcome, Participant, Status
from models.db import make_engine, sessions, upgrade
from tests.app import Service, settings_table, to_toml

CORPUS = Path(__file__).parent / "corpus"
MANIFEST: list[dict[str, Any]] = tomllib.loads((CORPUS / "manifest.toml").read_text())["message"]
PEOPLE = {"sam@leeds.gov.uk": ("Sam Jones", "Leeds City Council", "samtoken1"),
          "kim@nhs.net": ("Kim Lee", "NHS", "kimtoken1")}
QUOTED = ("reply above this line", "one of you reply", "Reply HELP")
ROBOT_ACTIONS = {"ignored-robot", "bounce"}


@dataclass(frozen=True)
class Thread:
    """What a reply refers to: the group's token and the Message-IDs of our emails."""

    token: str
    intro_id: str

    def fill(self, raw: bytes) -> bytes:
        values = {
            "GROUP": f"coffee+{self.token}@example.org", "TOKEN": self.token, "INTRO_ID": self.intro_id,
            "CHECKIN_ID": f"<checkin.{self.token}.5f2a9c1e7b3d@example.org>",
            "WELCOME_ID": "<welcome.samtoken1.9d8e7f6a5b4c@example.org>",
            "SAM_ADDRESS": "coffee+samtoken1@example.org",
        }
        for name, value in values.items():
            raw = raw.replace(b"{{%s}}" % name.encode(), value.encode())
        if b"{{BIG_BASE64}}" in raw:
            raw = raw.replace(b"{{BIG_BASE64}}", big_attachment())
        assert b"{{" not in raw, "a placeholder was left unfilled"
        return raw


@cache
def big_attachment(size: int = 3_000_000) -> bytes:
    text = base64.b64encode(random.Random(7).randbytes(size))
    return b"\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def load(name: str, thread: Thread = Thread("abcdefghijklmnop", "<intro.abcdefghijklmnop.0a1b2c3d4e5f@example.org>")) -> bytes:
    """A corpus file with its placeholders filled and CRLF line ends, as it would arrive."""
    raw = thread.fill((CORPUS / name).read_bytes())
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def cases() -> list[Any]:
    params = []
    for case in MANIFEST:
        params.append(pytest.param(case, "sqlite", id=f"sqlite-{case['file'][:-4]}"))
        if case.get("postgresql"):
            params.append(pytest.param(case, "postgresql", id=f"postgresql-{case['file'][:-4]}"))
    return params


OPTIONS = json.dumps(["2026-11-24T10:00:00+00:00", "2026-11-25T14:00:00+00:00", "2026-11-26T10:00:00+00:00"])


def add_people_and_open_round(engine: Engine, config_path: Path) -> None:
    """Sam and Kim, both active, introduced to each other in a round that has just opened and offered
    three times to meet (Tuesday to Thursday after TEST_START)."""
    with sessions(engine)() as s, s.begin():
        for email, (name, organisation, token) in PEOPLE.items():
            s.add(Participant(email=email, name=name, organisation=organisation, status=Status.ACTIVE,
                              reply_token=token))
    result = CliRunner().invoke(main, ["--config", str(config_path), "round", "open"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with sessions(engine)() as s, s.begin():
        s.scalars(select(Match)).one().options = OPTIONS


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state before each message, built once: copying the file saves a migration and a round per message."""
    folder = tmp_path_factory.mktemp("corpus-template")
    nowhere = SimpleNamespace(host="127.0.0.1", port=1, user="x", password="x")
    url = f"sqlite:///{folder}/template.sqlite3"
    (folder / "unmentoring.toml").write_text(to_toml(settings_table(url, folder / "data", nowhere, nowhere)))
    engine = make_engine(url)
    upgrade(engine)
    add_people_and_open_round(engine, folder / "unmentoring.toml")
    engine.dispose()
    with sqlite3.connect(folder / "template.sqlite3") as live, sqlite3.connect(folder / "snapshot.sqlite3") as copy:
        live.backup(copy)  # includes what is still in the write-ahead log
    return folder / "snapshot.sqlite3"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite: a copy of the template. PostgreSQL: a fresh database, set up like the template."""
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "unmentoring.sqlite3")
        yield f"sqlite:///{tmp_path}/unmentoring.sqlite3"
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


def running_round(service: Service) -> Thread:
    if not service.engine.url.get_backend_name() == "sqlite":
        add_people_and_open_round(service.engine, service.path)
    with service.session() as s:
        intro = s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "intro")).first()
        assert intro is not None
        return Thread(s.scalars(select(Match.token)).one(), intro.message_id)


def folder_counts(service: Service) -> dict[str, int]:
    """How many messages are in the inbox and in our two folders (whatever the server's hierarchy delimiter)."""
    with service.imap.client() as imap:
        names = {name.replace(".", "/").rpartition("/")[2]: name for _, _, name in imap.list_folders()}
        return {short: len(imap.select_folder(names[short], readonly=True) and imap.search("ALL"))
                for short in ("INBOX", "processed", "quarantine")}


@pytest.mark.parametrize("case, database_url", cases(), indirect=["database_url"])
def test_corpus_message_through_imap_and_tick(service: Service, case: dict[str, Any]) -> None:
    thread = running_round(service)
    raw = load(case["file"], thread)
    service.imap.deliver(raw)
    service.tick()

    with service.session() as s:
        records = s.scalars(select(InboundMessage)).all()
        assert [(r.action, r.disposition) for r in records] == [
            (case["action"], "quarantined" if case["action"] == "quarantined" else "processed")
        ], records[0].reason if records else "nothing recorded"
        sender = records[0].sender
        answers = s.scalars(select(OutboundMessage).where(OutboundMessage.in_reply_to == records[0].id)).all()
        assert bool(answers) == case["answered"]
        statuses = {p.email: p.status for p in s.scalars(select(Participant)) if p.email in PEOPLE}
        assert statuses == {email: case.get("status", {}).get(email, Status.ACTIVE) for email in PEOPLE}
        outcomes = [(o.met, o.reason_group) for o in s.scalars(select(Outcome))]
        expected = {"met": [(True, "")], "not-met": [(False, case.get("reason_group", ""))]}
        assert outcomes == expected.get(case["action"], [])
        assert sum(p.bounce_score for p in s.scalars(select(Participant))) == case.get("bounce_score", 0)

    sent = [m.message for m in service.smtp.messages if m.message["Auto-Submitted"] == "auto-replied"]
    assert len(sent) == len(answers), "every answer written to the outbox was sent"
    assert all(m["To"].addresses[0].addr_spec == sender for m in sent), "answers go to the sender only"
    filed = case.get("folder", "processed")
    assert folder_counts(service) == {"INBOX": 0, "processed": int(filed == "processed"),
                                      "quarantine": int(filed == "quarantine")}


@pytest.mark.parametrize("case", [c for c in MANIFEST if "command" in c], ids=lambda c: c["file"][:-4])
def test_corpus_command_and_new_text(case: dict[str, Any]) -> None:
    """The sender's own words are kept, our quoted instructions are not, and the command is the expected one."""
    mail = parse(load(case["file"]))
    text = new_text(mail.body)
    assert case["says"] in text
    assert not any(q.lower() in text.lower() for q in QUOTED), text
    answering, chat = reading_of(case)
    found = find_command(mail.subject, mail.body, answering, chat=chat)
    assert (found.name if found else "") == case["command"]


@pytest.mark.parametrize("case", MANIFEST, ids=lambda c: c["file"][:-4])
def test_corpus_robots_are_told_from_people(case: dict[str, Any]) -> None:
    mail = parse(load(case["file"]))
    ours = mail.sender.partition("+")[0].partition("@")[0] == "coffee" and mail.sender.endswith("@example.org")
    robot = looks_like_bounce(mail) or robot_reason(mail, "example.org") is not None or ours
    assert robot == (case["action"] in ROBOT_ACTIONS)
    assert (bool(mail.malformed) and not robot) == (case["action"] == "quarantined")


def reading_of(case: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """What `find_command` is told of a corpus message, as `inbound/apply.py` works it out: the kind
    of our email it directly answers, and whether it was written in a group's thread (a group token)."""
    raw = load_text(case)
    answering = frozenset({"checkin"} if "In-Reply-To: {{CHECKIN_ID}}" in raw else
                          {"welcome"} if "In-Reply-To: {{WELCOME_ID}}" in raw else ())
    return answering, ("{{GROUP}}" in raw or "{{INTRO_ID}}" in raw) and not answering


def load_text(case: dict[str, Any]) -> str:
    return (CORPUS / case["file"]).read_text(errors="replace")


def test_manifest_names_every_corpus_file() -> None:
    assert sorted(c["file"] for c in MANIFEST) == sorted(p.name for p in CORPUS.glob("*.eml"))
