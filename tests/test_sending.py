"""The outbox against a misbehaving SMTP server: every email ends sent exactly once, or failed with a reason."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from mailer.outbox import enqueue
from mailer.send import deliver_due
from models import OutboundMessage, OutStatus, Participant, Status
from models.db import sessions
from tests.app import TEST_START, Service


def queue_welcomes(service: Service, n: int) -> list[str]:
    now = TEST_START
    with service.session() as s, s.begin():
        for i in range(n):
            person = Participant(email=f"p{i}@org{i}.example", name=f"Person {i}", status=Status.ACTIVE,
                                 reply_token=f"tok{i:04d}")
            s.add(person)
            s.flush()
            enqueue(s, service.settings, template="participant/welcome", to=person, now=now)
    with service.session() as s:
        return list(s.scalars(select(OutboundMessage.message_id).order_by(OutboundMessage.id)))


def send_at(service: Service, when: datetime):  # type: ignore[no-untyped-def]
    return deliver_due(sessions(service.engine), service.settings.smtp, now=lambda: when)


def statuses(service: Service) -> list[tuple[str, str]]:
    with service.session() as s:
        return [(r.status, r.last_error) for r in s.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_temporary_failure_is_retried_later(service: Service) -> None:
    queue_welcomes(service, 1)
    service.smtp.fail_next = [(451, "4.3.0 try again later")]
    report = send_at(service, TEST_START)
    assert report.deferred == 1 and service.smtp.messages == []
    assert statuses(service)[0][0] == OutStatus.QUEUED and "451" in statuses(service)[0][1]
    assert send_at(service, TEST_START).sent == 0, "not before the backoff"
    assert send_at(service, TEST_START + timedelta(minutes=5)).sent == 1
    assert len(service.smtp.messages) == 1


def test_permanent_failure_is_kept_with_the_reason_and_not_retried(service: Service) -> None:
    queue_welcomes(service, 2)
    service.smtp.fail_next = [(550, "5.1.1 no such user")]
    report = send_at(service, TEST_START)
    assert (report.sent, report.failed) == (1, 1)
    assert statuses(service)[0] == (OutStatus.FAILED, "550 5.1.1 no such user")
    assert send_at(service, TEST_START + timedelta(days=3)).sent == 0
    assert '"outbox_failed": 1' in service.cli("status", "--json").output


def test_dropped_connection_mid_batch_loses_nothing_and_sends_nothing_twice(service: Service) -> None:
    ids = queue_welcomes(service, 5)
    service.smtp.drop_after = 2
    first = send_at(service, TEST_START)
    assert first.sent == 4 and first.deferred == 1
    send_at(service, TEST_START + timedelta(hours=1))
    delivered = [m.message["Message-ID"] for m in service.smtp.messages]
    assert sorted(delivered) == sorted(ids)
    assert all(status == OutStatus.SENT for status, _ in statuses(service))


def test_unreachable_server_leaves_the_outbox_untouched(service: Service) -> None:
    queue_welcomes(service, 3)
    service.set("smtp", "port", 1)
    report = send_at(service, TEST_START)
    assert report.sent == 0 and "cannot connect" in report.stopped
    assert "nothing is listening there: check smtp.host and smtp.port" in report.stopped
    assert [s for s, _ in statuses(service)] == [OutStatus.QUEUED] * 3


def test_headers_of_a_sent_email(service: Service) -> None:
    queue_welcomes(service, 1)
    send_at(service, TEST_START)
    msg = service.smtp.wait_for(1)[0].message
    assert msg["From"].addresses[0].addr_spec == "coffee@example.org"
    assert msg["Reply-To"].addresses[0].addr_spec == "coffee+tok0000@example.org"
    assert msg["List-Unsubscribe"] == "<mailto:coffee+tok0000@example.org?subject=LEAVE>"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["X-Unmentoring-Loop"] == "example.org"
    assert msg["Message-ID"].endswith("@example.org>") and msg["Date"]
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None


def test_a_typed_name_cannot_inject_headers(service: Service) -> None:
    now = TEST_START
    with service.session() as s, s.begin():
        person = Participant(email="x@y.org", name="Evil\r\nBcc: victim@z.org <b>", call_me="Ev <b>", status=Status.ACTIVE,
                             reply_token="tokevil")
        s.add(person)
        s.flush()
        enqueue(s, service.settings, template="participant/welcome", to=person, now=now)
    send_at(service, now)
    captured = service.smtp.wait_for(1)[0]
    assert captured.rcpt_tos == ["x@y.org"] and "Bcc" not in captured.message
    assert "&lt;b&gt;" in captured.message.get_body(("html",)).get_content()


def test_an_organiser_can_override_a_template(service: Service) -> None:
    folder = service.path.parent / "my-templates" / "participant"
    folder.mkdir(parents=True)
    (folder / "welcome.j2").write_text(
        "{% block subject %}Croeso, {{ name }}!{% endblock %}\n{% block body %}Welcome to the Welsh network.\n{% endblock %}\n")
    service.set("service", "templates_dir", "my-templates")
    queue_welcomes(service, 1)
    send_at(service, TEST_START)
    msg = service.smtp.wait_for(1)[0].message
    assert msg["Subject"] == "Croeso, Person!", "`name` is what they are called: the first word unless they chose"
    assert "Welsh network" in msg.get_body(("plain",)).get_content()
    assert "Welsh network" in msg.get_body(("html",)).get_content()


def test_one_click_unsubscribe_when_an_https_endpoint_is_configured(service: Service) -> None:
    service.set("service", "unsubscribe_url", "https://coffee.example.org/unsubscribe/{token}")
    queue_welcomes(service, 1)
    send_at(service, TEST_START)
    msg = service.smtp.wait_for(1)[0].message
    assert msg["List-Unsubscribe"] == ("<https://coffee.example.org/unsubscribe/tok0000>, "
                                       "<mailto:coffee+tok0000@example.org?subject=LEAVE>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_421_closes_the_connection_and_the_rest_still_go(service: Service) -> None:
    ids = queue_welcomes(service, 3)
    service.smtp.fail_next = [(421, "4.7.0 too many connections, closing")]
    first = send_at(service, TEST_START)
    assert (first.sent, first.deferred) == (2, 1)
    send_at(service, TEST_START + timedelta(minutes=5))
    assert sorted(m.message["Message-ID"] for m in service.smtp.messages) == sorted(ids)


def test_names_and_subjects_in_any_language(service: Service) -> None:
    service.set("service", "name", "Café Rencontres ☕")
    now = TEST_START
    with service.session() as s, s.begin():
        person = Participant(email="zoe@example.fr", name="Zoë Ångström 李", status=Status.ACTIVE, reply_token="tokz")
        s.add(person)
        s.flush()
        enqueue(s, service.settings, template="participant/welcome", to=person, now=now)
    send_at(service, now)
    captured = service.smtp.wait_for(1)[0]
    assert captured.raw.isascii(), "headers and bodies are encoded for any mail server"
    assert captured.message["Subject"] == "Welcome to Café Rencontres ☕"
    assert captured.message["To"].addresses[0].display_name == "Zoë Ångström 李"
    assert "Welcome, Zoë!" in captured.message.get_body(("plain",)).get_content()


def test_lines_starting_with_a_dot_arrive_as_written(service: Service) -> None:
    """SMTP ends the data at a line holding only "."; ours dot-stuffs as it streams the body."""
    queue_welcomes(service, 1)
    tail = b".NET and C# people welcome\r\n.\r\n..\r\nlast line"
    with service.session() as s, s.begin():
        row = s.scalars(select(OutboundMessage)).one()
        row.raw = row.raw + tail
        expected = row.raw + b"\r\n"
    assert send_at(service, TEST_START).sent == 1
    assert service.smtp.wait_for(1)[0].raw.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r") == expected
    assert statuses(service)[0][0] == OutStatus.SENT
