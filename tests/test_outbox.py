"""The outbox when things fail: nothing lost, and no email sent more than twice, whatever fails.

The database refuses writes by real means (another connection holding SQLite's write lock past
the run's busy timeout; a PostgreSQL trigger raising "No space left on device"); the SMTP sink
refuses one recipient, the sender, the login, or closes the connection with a 421 at RCPT.
"""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from mailer.attempts import End, Outcome, outcome_values
from mailer.outbox import enqueue
from mailer.send import SendReport, deliver_due
from models import OutboundMessage, OutStatus, Participant, Status
from models.db import make_engine, sessions
from tests.app import TEST_START, Service
from tests.harness.smtpsink import SmtpSink
from tests.test_poller_faults import finish, start_tick

T0 = TEST_START
LATER = T0 + timedelta(hours=1)


def queue(service: Service, n: int, *, to_each: int = 1) -> list[str]:
    """`n` welcomes queued at T0; with `to_each` > 1, each goes to that many people (a group email)."""
    with service.session() as s, s.begin():
        for i in range(n):
            people = [Participant(email=f"p{i}.{j}@org{j}.example", name=f"Person {i}.{j}", status=Status.ACTIVE,
                                  reply_token=f"tok{i:03d}{j}") for j in range(to_each)]
            s.add_all(people)
            s.flush()
            row = enqueue(s, service.settings, template="participant/welcome", to=people[0], now=T0)
            row.recipients = "\n".join(p.email for p in people)
    with service.session() as s:
        return list(s.scalars(select(OutboundMessage.message_id).order_by(OutboundMessage.id)))


def send(service: Service, when: datetime, engine: Engine | None = None) -> SendReport:
    return deliver_due(sessions(engine or service.engine), service.settings.smtp, now=lambda: when)


def rows(service: Service) -> list[OutboundMessage]:
    with service.session() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def copies(sink: SmtpSink) -> Counter[str]:
    return Counter(m.message["Message-ID"] for m in sink.messages)


class RefusedWrites:
    """From `start()` to `stop()` the database refuses to change the outbox, as a full disk, a
    failover to a read-only standby or a lock held past the timeout make it do: on SQLite another
    connection holds the write lock; on PostgreSQL a trigger raises "No space left on device"."""

    def __init__(self, service: Service) -> None:
        self.engine = service.engine
        self.sqlite = service.engine.dialect.name == "sqlite"
        self.holder: sqlite3.Connection | None = None
        if not self.sqlite:
            with self.engine.begin() as c:
                c.execute(text("CREATE TABLE fault (refusing boolean NOT NULL)"))
                c.execute(text("INSERT INTO fault VALUES (false)"))
                c.execute(text(
                    "CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF (SELECT refusing FROM fault) THEN RAISE EXCEPTION "
                    "'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END IF; "
                    "RETURN NEW; END $$"))
                c.execute(text("CREATE TRIGGER refuse BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_writes()"))

    def run_engine(self, service: Service) -> Engine:
        """The engine a run uses: on SQLite one that waits 0.3 s for a lock, not 30 s."""
        return make_engine(str(service.engine.url), busy_seconds=0.3) if self.sqlite else service.engine

    def start(self, *_: Any) -> None:
        if self.sqlite and self.holder is None:
            self.holder = sqlite3.connect(str(self.engine.url.database), isolation_level=None, check_same_thread=False)
            self.holder.execute("BEGIN IMMEDIATE")
        elif not self.sqlite:
            self._set(True)

    def stop(self) -> None:
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None
        elif not self.sqlite:
            self._set(False)

    def _set(self, refusing: bool) -> None:
        with self.engine.begin() as c:
            c.execute(text("UPDATE fault SET refusing = :r"), {"r": refusing})


def test_a_refused_record_stops_the_run_and_no_email_arrives_more_than_twice(service: Service) -> None:
    """The issue's case: the "sent" write refused on three runs running used to send the first
    email 1, 2, 3 times. Now each run stops at the refusal, the email in flight is dropped
    before its final ".", and a row left "sending" is tried once more, then waits for the organiser."""
    ids = queue(service, 3)
    refusing = RefusedWrites(service)
    engine = refusing.run_engine(service)
    service.smtp.on_accept = refusing.start
    reports = []
    for _ in range(3):
        reports.append(send(service, T0, engine))
        refusing.stop()
    assert reports[0].stopped.startswith("the database refused to record an email's sending (")
    assert "sending stopped so that nothing goes twice" in reports[0].stopped
    assert [r.sent for r in reports] == [1, 1, 1] and copies(service.smtp) == {ids[0]: 2, ids[1]: 1}
    service.smtp.on_accept = None
    assert send(service, LATER, engine).sent == 2
    assert copies(service.smtp) == {ids[0]: 2, ids[1]: 2, ids[2]: 1}
    assert [r.status for r in rows(service)] == [OutStatus.FAILED, OutStatus.SENT, OutStatus.SENT]
    assert "it may have arrived twice, so it is not sent again" in rows(service)[0].last_error
    assert send(service, LATER + timedelta(days=1), engine).sent == 0 and sum(copies(service.smtp).values()) == 5
    engine.dispose()


def test_a_run_killed_twice_with_the_same_email_in_flight_sends_it_no_third_time(service: Service) -> None:
    """`tick` as cron starts it, SIGKILLed the moment the server takes the first email (before its
    250 comes back), twice: the old outbox sent that email again on every run."""
    ids = queue(service, 3)
    runs: list[subprocess.Popen[str]] = []
    service.smtp.on_accept = lambda _: runs[-1].send_signal(signal.SIGKILL)
    for _ in range(2):
        runs.append(start_tick(service.path))
        assert runs[-1].wait(timeout=60) == -signal.SIGKILL
    service.smtp.on_accept = None
    out = finish(start_tick(service.path))
    assert "outbox: 2 sent, 0 to retry, 0 failed" in out
    assert copies(service.smtp) == {ids[0]: 2, ids[1]: 1, ids[2]: 1}
    assert [(r.status, r.interrupted) for r in rows(service)] == [
        (OutStatus.FAILED, 2), (OutStatus.SENT, 0), (OutStatus.SENT, 0)]
    assert service.cli("outbox").output.startswith(f"#{rows(service)[0].id} failed after 2 tries")


def test_a_refused_sender_stops_the_run_and_keeps_every_email_queued(service: Service) -> None:
    """A 5xx at MAIL FROM ("daily sending quota exceeded") refuses the session, not the email."""
    queue(service, 3)
    service.smtp.fail_mail_from = [(554, "5.4.5 Daily user sending quota exceeded")] * 3
    report = send(service, T0)
    assert report.stopped.startswith("the SMTP server refuses to send for us "
                                     "(554 5.4.5 Daily user sending quota exceeded, from coffee@example.org)")
    assert "every email stays queued" in report.stopped
    assert [(r.status, r.attempts) for r in rows(service)] == [(OutStatus.QUEUED, 0)] * 3
    service.smtp.fail_mail_from.clear()
    assert send(service, T0).sent == 3 and len(service.smtp.messages) == 3


def test_tick_says_in_one_line_why_sending_stopped(service: Service) -> None:
    queue(service, 2)
    service.smtp.fail_mail_from = [(554, "5.4.5 Daily user sending quota exceeded")]
    result = service.cli("tick")
    assert result.exit_code == 1
    stopped = [line for line in result.output.splitlines() if "refuses to send for us" in line]
    assert len(stopped) == 1 and "then the next run tries again" in stopped[0]
    assert "outbox: 0 sent, 0 to retry, 0 failed" in result.output


def test_a_refused_login_keeps_every_email_queued(service: Service) -> None:
    with SmtpSink(username="mailer", password="secret", auth_required=True) as sink:
        service.set("smtp", "port", sink.port)
        queue(service, 2)
        report = send(service, T0)
        assert "(530 5.7.0 Authentication required, from coffee@example.org)" in report.stopped
        service.set("smtp", "user", "mailer")
        service.set("smtp", "password", "wrong")
        report = send(service, T0)
        assert report.stopped.startswith("the SMTP server refused the login for mailer (535 ")
        assert "check smtp.user and smtp.password; nothing was sent" in report.stopped
        assert [(r.status, r.attempts) for r in rows(service)] == [(OutStatus.QUEUED, 0)] * 2
        service.set("smtp", "password", "secret")
        assert send(service, T0).sent == 2 and len(sink.messages) == 2


def test_a_4xx_for_one_member_of_a_group_retries_that_member_only(service: Service) -> None:
    queue(service, 1, to_each=3)
    service.smtp.refuse_rcpt["p0.1@org1.example"] = [(451, "4.2.1 mailbox busy, try later")]
    first = send(service, T0)
    assert (first.sent, first.deferred) == (0, 1)
    assert service.smtp.messages[0].rcpt_tos == ["p0.0@org0.example", "p0.2@org2.example"]
    (row,) = rows(service)
    assert row.status == OutStatus.QUEUED and row.last_error == "p0.1@org1.example: 451 4.2.1 mailbox busy, try later"
    assert send(service, LATER).sent == 1
    assert [m.rcpt_tos for m in service.smtp.messages] == [
        ["p0.0@org0.example", "p0.2@org2.example"], ["p0.1@org1.example"]]
    assert rows(service)[0].status == OutStatus.SENT
    assert send(service, LATER + timedelta(days=1)).sent == 0 and len(service.smtp.messages) == 2


def test_a_5xx_for_one_member_fails_that_member_only(service: Service) -> None:
    queue(service, 1, to_each=2)
    service.smtp.refuse_rcpt["p0.1@org1.example"] = [(550, "5.1.1 no such user")]
    assert send(service, T0).sent == 1
    assert [m.rcpt_tos for m in service.smtp.messages] == [["p0.0@org0.example"]]
    (row,) = rows(service)
    assert row.status == OutStatus.SENT and row.rejected == "p0.1@org1.example\t550 5.1.1 no such user"
    listed = service.cli("outbox").output
    assert f"#{row.id} sent after 1 try" in listed and "p0.1@org1.example refused: 550 5.1.1 no such user" in listed
    assert "unmentoring outbox requeue ID" in listed
    (shown,) = json.loads(service.cli("outbox", "list", "--json").output)
    assert (shown["status"], shown["accepted"], shown["rejected"]) == (
        "sent", ["p0.0@org0.example"], {"p0.1@org1.example": "550 5.1.1 no such user"})
    assert service.cli("outbox", "requeue", str(row.id)).output == f"#{row.id}: queued again: the next run sends it\n"
    assert send(service, LATER).sent == 1
    assert [m.rcpt_tos for m in service.smtp.messages] == [["p0.0@org0.example"], ["p0.1@org1.example"]]


def test_a_421_at_rcpt_reconnects_and_the_next_email_loses_nothing(service: Service) -> None:
    ids = queue(service, 2)
    service.smtp.refuse_rcpt["p0.0@org0.example"] = [(421, "4.7.0 too busy, closing")]
    report = send(service, T0)
    assert (report.sent, report.deferred) == (1, 1) and not any("connect()" in e for e in report.errors)
    first, second = rows(service)
    assert (first.status, first.last_error) == (OutStatus.QUEUED, "421 4.7.0 too busy, closing")
    assert (second.status, second.attempts, second.last_error) == (OutStatus.SENT, 1, "")
    send(service, LATER)
    assert copies(service.smtp) == {ids[0]: 1, ids[1]: 1}


def test_an_email_whose_end_is_unseen_twice_waits_for_the_organiser(service: Service) -> None:
    """The connection drops after the final "." twice: the server may have it twice already."""
    queue(service, 1)
    for when in (T0, LATER):
        service.smtp.drop_after = 0
        assert send(service, when).sent == 0
    (row,) = rows(service)
    assert row.status == OutStatus.FAILED and row.interrupted == 2 and "may have arrived twice" in row.last_error
    assert send(service, LATER + timedelta(days=1)).sent == 0
    listed = service.cli("outbox").output
    assert listed.startswith(f"#{row.id} failed after 2 tries: to p0.0@org0.example, \"Welcome to Coffee Roulette\"")
    requeued = service.cli("outbox", "requeue", "--all-failed")
    assert requeued.output == f"#{row.id}: queued again: the next run sends it\n" and requeued.exit_code == 0
    assert service.cli("send").output.startswith("outbox: 1 sent, 0 to retry, 0 failed")
    assert len(service.smtp.messages) == 1 and rows(service)[0].status == OutStatus.SENT


def test_requeue_refuses_what_it_cannot_requeue(service: Service) -> None:
    queue(service, 1)
    result = service.cli("outbox", "requeue", "1", "99")
    assert result.exit_code == 1
    assert result.output == "#1: not failed (it is queued), left as it is\n#99: no such email in the outbox\n"
    assert "name the emails to requeue by id" in service.cli("outbox", "requeue").output
    assert service.cli("outbox").output == ("nothing failed or waiting for a retry\n"
                                            "1 more waiting for their first try (the next run sends them)\n")


A, B = "a@x.example", "b@y.example"
DONE_ALL = Outcome(End.DONE, accepted=[A, B])
DONE_B_LATER = Outcome(End.DONE, accepted=[A], later={B: "451 busy"})
DONE_B_REJECTED = Outcome(End.DONE, accepted=[A], rejected={B: "550 no such user"})
DONE_NONE = Outcome(End.DONE, rejected={A: "550 no", B: "550 no"})


@pytest.mark.parametrize("outcome, attempts, interrupted, expected", [
    (DONE_ALL, 0, 0, {"status": "sent", "attempts": 1, "accepted": f"{A}\n{B}", "last_error": ""}),
    (DONE_B_LATER, 0, 0, {"status": "queued", "accepted": A, "last_error": f"{B}: 451 busy", "next_try_at": T0 + timedelta(minutes=1)}),
    (DONE_B_LATER, 11, 0, {"status": "failed", "attempts": 12}),
    (DONE_B_REJECTED, 0, 0, {"status": "sent", "rejected": f"{B}\t550 no such user"}),
    (DONE_NONE, 0, 0, {"status": "failed", "accepted": ""}),
    (Outcome(End.REFUSED, "554 5.7.1 spam"), 0, 0, {"status": "failed", "last_error": "554 5.7.1 spam"}),
    (Outcome(End.LATER, "421 closing"), 3, 0, {"status": "queued", "attempts": 4, "next_try_at": T0 + timedelta(minutes=8)}),
    (Outcome(End.UNKNOWN, "lost"), 0, 0, {"status": "queued", "interrupted": 1}),
    (Outcome(End.UNKNOWN, "lost"), 1, 1, {"status": "failed", "interrupted": 2}),
    (Outcome(End.SESSION, "554 quota"), 5, 0, {"status": "queued", "attempts": 5, "last_error": "554 quota"}),
])
def test_how_an_attempt_ends_decides_what_is_recorded(outcome: Outcome, attempts: int, interrupted: int,
                                                      expected: dict[str, Any]) -> None:
    row = OutboundMessage(id=1, kind="intro", recipients=f"{A}\n{B}", attempts=attempts, interrupted=interrupted,
                          accepted="", rejected="")
    values = outcome_values(row, outcome, T0)
    assert {key: values.get(key) for key in expected} == expected
