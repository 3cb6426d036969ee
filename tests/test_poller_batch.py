"""Messages of one batch see what the messages before them did (inbound/lookups.py looks each
batch's senders and Message-IDs up once), and nothing that a failed message undid (both databases)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from models import InboundMessage, Participant
from tests.app import Service
from tests.mail import incoming

NEW = "nia@new.example.net"


def records(service: Service) -> list[tuple[str, str, int | None]]:
    with service.session() as s:
        return [(r.message_id, r.action, r.participant_id)
                for r in s.scalars(select(InboundMessage).order_by(InboundMessage.id))]


def test_a_new_address_writing_three_times_in_one_batch_is_one_participant(service: Service) -> None:
    for n, subject in enumerate(["JOIN", "HELP", "JOIN"]):
        service.imap.deliver(incoming(f"Nia <{NEW}>", subject, message_id=f"<{n}@new.example.net>"))
    service.imap.deliver(incoming(f"Nia <{NEW}>", "JOIN", message_id="<0@new.example.net>"))  # delivered twice
    output = service.tick().output
    assert "1 already done" in output
    with service.session() as s:
        [person] = s.scalars(select(Participant)).all()
    assert records(service) == [("<0@new.example.net>", "join-requested", person.id),
                                ("<1@new.example.net>", "help-sent", person.id),
                                ("<2@new.example.net>", "join-repeat", person.id)]
    assert len(service.smtp.messages) == 2, "one request to confirm, one list of commands"


@pytest.mark.parametrize("failure", ["python", "database"])
def test_what_a_failed_message_undid_is_not_believed_by_the_rest_of_its_batch(
    service: Service, monkeypatch: pytest.MonkeyPatch, failure: str,
) -> None:
    """The first JOIN creates Nia, then fails and is rolled back: the second, in the same batch,
    must create her again and be answered, not take her for someone already asked to confirm."""
    import inbound.apply

    real = inbound.apply.dispatch

    def fails_once(ctx: Any) -> Any:
        decision = real(ctx)
        if ctx.mail.message_id == "<first@new.example.net>":
            if failure == "database":
                ctx.session.execute(text("SELECT * FROM no_such_table"))
            raise RuntimeError("handler bug after the work was done")
        return decision

    monkeypatch.setattr(inbound.apply, "dispatch", fails_once)
    service.imap.deliver(incoming(f"Nia <{NEW}>", "JOIN", message_id="<first@new.example.net>"))
    service.imap.deliver(incoming(f"Nia <{NEW}>", "JOIN please", message_id="<second@new.example.net>"))
    assert "1 quarantined" in service.tick().output
    with service.session() as s:
        [person] = s.scalars(select(Participant)).all()
    assert [(key, action) for key, action, _ in records(service)] == [
        ("<first@new.example.net>", "quarantined"), ("<second@new.example.net>", "join-requested")]
    assert records(service)[1][2] == person.id
    assert [m.message["To"] for m in service.smtp.messages] == [f"Nia <{NEW}>"]


def test_the_answer_limits_count_what_earlier_runs_and_this_batch_queued_and_not_what_was_undone(
    service: Service, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The daily limit per address (in any +tag form) and the hourly cap on answers to strangers are
    read once per batch (mailer/answer_counts.py): they must count the answers of an earlier run, the
    answers queued earlier in the batch, and not the answer of a message that failed and was undone."""
    import inbound.apply

    real = inbound.apply.dispatch

    def fails_after_answering(ctx: Any) -> Any:
        decision = real(ctx)
        if ctx.mail.message_id == "<undone@c.org>":
            raise RuntimeError("handler bug after the answer was queued")
        return decision

    service.set("service", "max_auto_replies_per_day", 2)
    service.set("service", "stranger_answers_per_hour", 3)
    service.imap.deliver(incoming("dee@d.org", "HELP", message_id="<1@d.org>"))
    service.tick()
    monkeypatch.setattr(inbound.apply, "dispatch", fails_after_answering)
    for sender, key in [("Dee <dee+x@d.org>", "<2@d.org>"), ("dee@d.org", "<3@d.org>"), ("cy@c.org", "<undone@c.org>"),
                        ("al@a.org", "<4@a.org>"), ("bo@b.org", "<5@b.org>")]:
        service.imap.deliver(incoming(sender, "HELP", message_id=key))
    service.tick()
    assert [(key, action) for key, action, _ in records(service)] == [
        ("<1@d.org>", "help-sent"), ("<2@d.org>", "help-sent"), ("<3@d.org>", "help-limited"),
        ("<undone@c.org>", "quarantined"), ("<4@a.org>", "help-sent"), ("<5@b.org>", "held-back")]
    assert [m.message["To"] for m in service.smtp.messages] == ["dee@d.org", "dee+x@d.org", "al@a.org"]


def test_a_write_refused_at_the_end_of_a_message_undoes_that_message_alone(
    service: Service, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The record's outcome is the message's last write, just before its savepoint's release (on the
    driver's cursor, models/held.py): if the database refuses it, that message is rolled back and
    quarantined, its answer not sent, and the messages around it in the batch are answered."""
    import inbound.apply

    real = inbound.apply._participant_id
    monkeypatch.setattr(inbound.apply, "_participant_id",
                        lambda session, mail: 999_999 if mail.sender == "bo@b.org" else real(session, mail))
    for sender in ["al@a.org", "bo@b.org", "cy@c.org"]:
        service.imap.deliver(incoming(sender, "HELP", message_id=f"<{sender}>"))
    assert "1 quarantined" in service.tick().output
    assert [(key, action) for key, action, _ in records(service)] == [
        ("<al@a.org>", "help-sent"), ("<bo@b.org>", "quarantined"), ("<cy@c.org>", "help-sent")]
    assert [m.message["To"] for m in service.smtp.messages] == ["al@a.org", "cy@c.org"]


def test_a_write_refused_mid_message_undoes_that_message_alone(
    service: Service, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database refuses a JOIN's audit row: that message is rolled back to its savepoint (on the
    driver's cursor, models/held.py) and quarantined, no participant, token or answer of it is
    left, and the batch goes on."""
    from types import SimpleNamespace

    import inbound.signup

    real = inbound.signup.audit

    def refused_for_bo(ctx: Any, person: Any, *args: Any) -> None:
        nobody = SimpleNamespace(id=999_999, status=person.status)
        real(ctx, nobody if person.email == "bo@b.org" else person, *args)

    monkeypatch.setattr(inbound.signup, "audit", refused_for_bo)
    for sender in ["al@a.org", "bo@b.org", "cy@c.org"]:
        service.imap.deliver(incoming(sender, "JOIN", message_id=f"<{sender}>"))
    assert "1 quarantined" in service.tick().output
    assert [(key, action) for key, action, _ in records(service)] == [
        ("<al@a.org>", "join-requested"), ("<bo@b.org>", "quarantined"), ("<cy@c.org>", "join-requested")]
    with service.session() as s:
        assert sorted(p.email for p in s.scalars(select(Participant))) == ["al@a.org", "cy@c.org"]
    assert [m.message["To"] for m in service.smtp.messages] == ["al@a.org", "cy@c.org"]


def test_a_message_no_one_acts_on_is_recorded_whole(service: Service) -> None:
    """A robot's message, or one without a sender we can read, is recorded with its outcome in one
    statement (inbound.apply._not_acted_on): the record still names the participant who sent it, and
    the From header it could not read."""
    service.imap.deliver(incoming(f"Nia <{NEW}>", "JOIN", message_id="<join@new.example.net>"))
    service.tick()
    service.imap.deliver(incoming(f"Nia <{NEW}>", "Automatic reply: Coffee", "I am away.",
                                  headers={"Auto-Submitted": "auto-replied"}, message_id="<away@new.example.net>"))
    service.imap.deliver(incoming("Nobody <not an address>", "JOIN", message_id="<nobody@x.example>"))
    service.tick()
    with service.session() as s:
        person = s.scalars(select(Participant)).one()
        robot, nobody = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()[1:]
    assert (robot.disposition, robot.action, robot.participant_id) == ("processed", "ignored-robot", person.id)
    assert robot.reason
    assert (nobody.disposition, nobody.action) == ("quarantined", "quarantined")
    assert nobody.sender == "Nobody <not an address>"
    assert nobody.reason.startswith("no sender address we can read")
    assert len(service.smtp.messages) == 1
