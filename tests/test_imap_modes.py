"""The poller against IMAP servers unlike the default test server: over TLS (implicit and
STARTTLS), without the MOVE extension, and with an inbox whose UIDVALIDITY changes."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import FolderState, InboundMessage
from tests.app import Service, running, settings_table
from tests.harness.dovecot import Dovecot, dovecot_available
from tests.harness.fixtures import INSTALL_HINT
from tests.harness.smtpsink import SmtpSink
from tests.mail import incoming

PROCESSED = "unmentoring/processed"
SAM, KIM = "sam@leeds.gov.uk", "kim@nhs.net"
EARLIER = ["lee@example.net", "ana@example.com"]
WITHOUT_MOVE = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT MULTIAPPEND UNSELECT CHILDREN NAMESPACE "
                "UIDPLUS LIST-EXTENDED CONDSTORE ESEARCH LIST-STATUS BINARY LITERAL+ SPECIAL-USE")


def started(server: Dovecot) -> Iterator[Dovecot]:
    if not dovecot_available():
        pytest.fail(f"Dovecot is not installed: {INSTALL_HINT}", pytrace=False)
    with server:
        yield server


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Dovecot]:
    yield from started(Dovecot(tls=True))


@pytest.fixture(scope="module")
def no_move_server() -> Iterator[Dovecot]:
    yield from started(Dovecot(capabilities=WITHOUT_MOVE, rawlog=True))


@contextmanager
def service_on(server: Dovecot, database_url: str, folder: Path, smtp: SmtpSink, **imap: object) -> Iterator[Service]:
    """The service reading a fresh account on `server`, with these [imap] settings changed."""
    account = server.account()
    table = settings_table(database_url, folder / "data", account, smtp)
    table["imap"].update(imap)
    with running(table, folder, account, smtp) as service:
        yield service


def port_for(server: Dovecot, mode: str) -> int:
    return server.tls_port if mode == "implicit" else server.port


def tls_logins(server: Dovecot, user: str) -> int:
    """Logins of `user` that Dovecot logged as made over TLS (the log is written a moment later)."""
    deadline = time.monotonic() + 3
    while True:
        with open(server.log_path) as log:
            count = sum(1 for line in log if f"Login: user=<{user}>" in line and ", TLS," in line)
        if count or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def answers_to(service: Service, address: str) -> int:
    return sum(1 for m in service.smtp.messages if m.rcpt_tos == [address])


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_poll_over_tls_answers_a_join(mode: str, tls_server: Dovecot, database_url: str, tmp_path: Path,
                                      smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", tls_server.ca_file)
    with service_on(tls_server, database_url, tmp_path, smtp_sink, tls=mode, port=port_for(tls_server, mode)) as service:
        service.imap.deliver(incoming(SAM, "JOIN"))
        output = service.tick().output

        assert "inbox: 1 seen, 1 handled, 0 quarantined" in output
        [confirmation] = service.smtp.wait_for(1)
        assert confirmation.rcpt_tos == [SAM] and "CONFIRM" in confirmation.message.get_body(("plain",)).get_content()
        assert service.imap.fetch_all() == [] and len(service.imap.fetch_all(PROCESSED)) == 1
        assert tls_logins(tls_server, service.imap.user) == 1, "the poller's login was not over TLS"


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_untrusted_certificate_is_reported_and_mail_waits(mode: str, tls_server: Dovecot, tmp_path: Path,
                                                         smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    """A certificate we do not trust stops the run before login, with one line that says so;
    the mail stays in the inbox for a run that can read it."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    database = f"sqlite:///{tmp_path}/unmentoring.sqlite3"
    with service_on(tls_server, database, tmp_path, smtp_sink, tls=mode, port=port_for(tls_server, mode)) as service:
        joined = incoming(SAM, "JOIN")
        service.imap.deliver(joined)
        result = service.cli("tick")

        assert result.exit_code == 1
        [error] = [line for line in result.output.splitlines() if "certificate verify failed" in line]
        assert f"IMAP server 127.0.0.1:{port_for(tls_server, mode)} failed" in error
        assert "certificate is not trusted: check that its issuer is trusted" in error
        assert "unhandled mail stays in the inbox" in error
        assert "Traceback" not in result.output and "inbox: not read this run" in result.output
        assert service.imap.fetch_all() == [joined] and service.smtp.messages == []


def test_server_without_move_files_by_copy_and_expunge(no_move_server: Dovecot, database_url: str, tmp_path: Path,
                                                       smtp_sink: SmtpSink) -> None:
    """MOVE is an extension (RFC 6851): without it the poller copies, flags \\Deleted and expunges
    only its own UIDs (UID EXPUNGE, from UIDPLUS; a plain EXPUNGE would also remove mail another
    client flagged). Dovecot obeys even an unadvertised MOVE, hence the check of what it received."""
    with service_on(no_move_server, database_url, tmp_path, smtp_sink) as service:
        with service.imap.client() as client:
            assert not client.has_capability("MOVE") and client.has_capability("UIDPLUS")
        joined = incoming(SAM, "JOIN")
        service.imap.deliver(joined)
        output = service.tick().output

        assert "inbox: 1 seen, 1 handled, 0 quarantined, 0 already done" in output
        assert service.imap.fetch_all() == []
        assert service.imap.fetch_all(PROCESSED) == [joined]
        assert answers_to(service, SAM) == 1
        commands = no_move_server.commands(service.imap.user)
        assert not [c for c in commands if " MOVE " in c]
        assert [c for c in commands if " UID EXPUNGE " in c]

        assert "inbox: 0 seen" in service.tick().output
        with service.session() as s:
            assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_new_uidvalidity_does_not_repeat_handled_mail(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    """A folder deleted and recreated (or moved to a new server) renumbers its mail from UID 1
    under a new UIDVALIDITY: a copy of a message already handled is known by its Message-ID, and
    new mail is read although its UID is below the highest one seen before."""
    inbox = "Requests"
    service.set("imap", "inbox", inbox)
    joined = incoming(SAM, "JOIN", message_id="<join-1@leeds.gov.uk>")
    service.imap.deliver(joined, folder=inbox)
    for address in EARLIER:
        service.imap.deliver(incoming(address, "JOIN"), folder=inbox)
    assert "inbox: 3 seen, 3 handled" in service.tick().output
    with service.imap.client() as client:
        old = client.folder_status(inbox, ["UIDVALIDITY"])[b"UIDVALIDITY"]
        client.delete_folder(inbox)
        client.create_folder(inbox)
        new = client.folder_status(inbox, ["UIDVALIDITY"])[b"UIDVALIDITY"]
    assert new != old

    service.imap.deliver(joined, folder=inbox)
    service.imap.deliver(incoming(KIM, "JOIN"), folder=inbox)
    caplog.clear()
    caplog.set_level(logging.WARNING)
    output = service.tick().output

    assert "inbox: 2 seen, 1 handled, 0 quarantined, 1 already done" in output
    assert [r.getMessage() for r in caplog.records] == [f"{inbox}: UIDVALIDITY changed; Message-IDs keep us from acting twice"]
    assert [answers_to(service, who) for who in (SAM, KIM, *EARLIER)] == [1, 1, 1, 1]
    assert service.imap.fetch_all(inbox) == [] and len(service.imap.fetch_all(PROCESSED)) == 5
    with service.session() as s:
        state = s.get(FolderState, inbox)
        assert state is not None and (state.uidvalidity, state.last_uid) == (new, 2)
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 4


def test_implicit_tls_on_a_starttls_port_says_which_settings_to_check(tls_server: Dovecot, tmp_path: Path,
                                                                     smtp_sink: SmtpSink) -> None:
    database = f"sqlite:///{tmp_path}/unmentoring.sqlite3"
    with service_on(tls_server, database, tmp_path, smtp_sink, tls="implicit", port=tls_server.port) as service:
        result = service.cli("tick")
    assert result.exit_code == 1
    assert "TLS failed: check that imap.tls fits imap.port (implicit for 993, starttls for 143)" in result.output
