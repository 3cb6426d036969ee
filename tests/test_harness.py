"""The test servers and fixtures themselves work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.harness.dovecot import Dovecot, ImapAccount
from tests.harness.postgres import Postgres
from tests.harness.smtpsink import SmtpSink


def raw_message(subject: str) -> bytes:
    return f"From: a@example.org\r\nTo: b@example.org\r\nSubject: {subject}\r\n\r\nHello.\r\n".encode()


def test_imap_deliver_and_fetch_back(imap_account: ImapAccount) -> None:
    first, second = raw_message("first"), raw_message("second")
    imap_account.deliver(first)
    imap_account.deliver(second)
    imap_account.deliver(raw_message("filed"), folder="Processed/2024")

    assert imap_account.fetch_all() == [first, second]
    assert imap_account.fetch_all("Processed/2024") == [raw_message("filed")]
    assert imap_account.fetch_all("Missing") == []
    assert {"INBOX", "Processed/2024"} <= set(imap_account.folders())
    with imap_account.client() as imap:
        imap.select_folder("INBOX")
        assert imap.search("UNSEEN") == imap.search("ALL")


def test_imap_accounts_start_empty(imap_server: Dovecot, imap_account: ImapAccount) -> None:
    imap_account.deliver(raw_message("mine"))
    other = imap_server.account()
    assert other.user != imap_account.user
    assert other.fetch_all() == []


def send(sink: SmtpSink, subject: str) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        smtp.sendmail("a@example.org", ["b@example.org", "c@example.org"], raw_message(subject))


def test_smtp_sink_captures(smtp_sink: SmtpSink) -> None:
    send(smtp_sink, "captured")
    [captured] = smtp_sink.wait_for(1)
    assert captured.mail_from == "a@example.org"
    assert captured.rcpt_tos == ["b@example.org", "c@example.org"]
    assert captured.raw == raw_message("captured")
    assert isinstance(captured.message, EmailMessage)
    assert captured.message["Subject"] == "captured"
    smtp_sink.clear()
    assert smtp_sink.messages == []


def test_smtp_sink_fail_next(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next = [(451, "try later"), (550, "no such user")]
    for code in (451, 550):
        with pytest.raises(smtplib.SMTPDataError) as error:
            send(smtp_sink, "refused")
        assert error.value.smtp_code == code
    send(smtp_sink, "accepted")
    assert [m.message["Subject"] for m in smtp_sink.wait_for(1)] == ["accepted"]


def test_smtp_sink_drop_after(smtp_sink: SmtpSink) -> None:
    smtp_sink.drop_after = 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
            for subject in ("one", "two"):
                smtp.sendmail("a@example.org", ["b@example.org"], raw_message(subject))
    assert [m.message["Subject"] for m in smtp_sink.messages] == ["one"]
    send(smtp_sink, "retried")
    assert len(smtp_sink.wait_for(2)) == 2


def test_smtp_sink_auth() -> None:
    with SmtpSink(username="mailer", password="secret", auth_required=True) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
            with pytest.raises(smtplib.SMTPSenderRefused):
                smtp.sendmail("a@example.org", ["b@example.org"], raw_message("anonymous"))
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp.login("mailer", "wrong")
            smtp.login("mailer", "secret")
            smtp.sendmail("a@example.org", ["b@example.org"], raw_message("authenticated"))
        assert [m.message["Subject"] for m in sink.wait_for(1)] == ["authenticated"]


def test_database_url(database_url: str, request: pytest.FixtureRequest) -> None:
    engine = sa.create_engine(database_url)
    try:
        assert engine.dialect.name == request.node.callspec.id
        with engine.begin() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert sa.inspect(conn).get_table_names() == []
            conn.execute(sa.text("create table t (x integer)"))
    finally:
        engine.dispose()


def test_pg_databases_are_separate(pg_server: Postgres) -> None:
    first, second = pg_server.create_database(), pg_server.create_database()
    assert first != second
    assert first.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/")
    engine = sa.create_engine(first)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create table t (x integer)"))
    finally:
        engine.dispose()
    engine = sa.create_engine(second)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


HOLDING_TEST = """
import json, os, time

def test_hold(imap_server, pg_server):
    servers = {"pids": [imap_server.process.pid, pg_server.process.pid], "dirs": [imap_server.dir, pg_server.dir]}
    with open(os.environ["SERVERS_FILE"], "w") as file:
        json.dump(servers, file)
    time.sleep(300)
"""


def running_in_session(leader: int) -> list[int]:
    """Live (not zombie) processes in the session `leader` started: a server and its children."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) == leader:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(("stop", "workers"), [(signal.SIGTERM, []), (signal.SIGKILL, []), (signal.SIGKILL, ["-n", "1"])],
                         ids=["SIGTERM", "SIGKILL", "SIGKILL-xdist"])
def test_servers_stop_when_the_test_run_is_stopped(tmp_path: Path, stop: signal.Signals, workers: list[str]) -> None:
    """A run stopped by a time limit (SIGTERM) or killed outright, alone or with xdist's workers (which start
    the servers), leaves no Dovecot or PostgreSQL behind; on SIGTERM the fixtures tear down, removing the
    servers' files too."""
    (tmp_path / "test_hold.py").write_text(HOLDING_TEST)
    servers_file = tmp_path / "servers.json"
    env = {**os.environ, "SERVERS_FILE": str(servers_file), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with open(tmp_path / "output.txt", "wb") as output:
        run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                                "tests.harness.fixtures", *workers, "test_hold.py"], cwd=tmp_path, env=env,
                               stdout=output, stderr=subprocess.STDOUT)
    servers: dict[str, list[Any]] = {"pids": [], "dirs": []}
    try:
        deadline = time.monotonic() + 120
        while not servers_file.exists() or not servers_file.read_text():
            assert run.poll() is None and time.monotonic() < deadline, (tmp_path / "output.txt").read_text()
            time.sleep(0.1)
        time.sleep(0.2)
        servers = json.loads(servers_file.read_text())
        assert all(running_in_session(pid) for pid in servers["pids"])
        run.send_signal(stop)
        run.wait(timeout=60)
        deadline = time.monotonic() + 20
        while any(running_in_session(pid) for pid in servers["pids"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {pid: running_in_session(pid) for pid in servers["pids"]}
        assert not any(left.values()), f"still running after {stop.name}: {left}"
        if stop == signal.SIGTERM:
            assert not any(os.path.exists(d) for d in servers["dirs"]), "the fixtures tore down"
    finally:
        run.kill()
        for pid in servers["pids"]:
            for process in running_in_session(pid):
                os.kill(process, signal.SIGKILL)
        for folder in servers["dirs"]:
            shutil.rmtree(folder, ignore_errors=True)
