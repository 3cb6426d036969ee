"""The one line of advice after a failure fits its cause: a certificate's dates, name or issuer, and
a failed email to someone who never confirmed, paused, or taking part (both databases)."""
from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import trustme

from models import OutboundMessage, OutStatus, Participant, Status
from tests.app import Service

NOW = datetime.now(timezone.utc)  # certificates are checked against the real clock, not the service's


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_listener(cert: trustme.LeafCert) -> Iterator[int]:
    """A loopback port that offers TLS with `cert`: enough for the client to judge the certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    context.wrap_socket(conn, server_side=True).close()
                except (ssl.SSLError, OSError):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()  # no timeout: a timed wait never returns under libfaketime's shifted clock
        listener.close()


CASES = {
    "expired": ({"not_before": NOW - timedelta(days=400), "not_after": NOW - timedelta(days=2)},
                "the server's certificate has expired", "clock"),
    "not yet valid": ({"not_before": NOW + timedelta(days=2), "not_after": NOW + timedelta(days=400)},
                      "the server's certificate is not valid yet", "clock"),
    "another name": ({"identities": ("mail.other.example",)},
                     "the server's certificate is for another name: check that imap.host", "is the name"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_certificate_problem_gets_the_advice_for_its_cause(case: str, ca: trustme.CA, service: Service,
                                                             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    options, expected, also = CASES[case]
    names = options.get("identities", ("127.0.0.1",))
    cert = ca.issue_cert(*names, **{k: v for k, v in options.items() if k != "identities"})
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    for port in tls_listener(cert):
        service.set("imap", "tls", "implicit")
        service.set("imap", "port", port)
        result = service.cli("config", "check")
    [line] = [line for line in result.output.splitlines() if line.startswith("IMAP: cannot log in")]
    assert expected in line and also in line, line
    if case != "another name":
        assert "host is the name" not in line and "issuer" not in line, "dates are neither a name nor an issuer"


def test_an_unknown_issuer_says_so(ca: trustme.CA, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    for port in tls_listener(ca.issue_cert("127.0.0.1")):
        service.set("imap", "tls", "implicit")
        service.set("imap", "port", port)
        result = service.cli("config", "check")
    [line] = [line for line in result.output.splitlines() if line.startswith("IMAP: cannot log in")]
    assert "the server's certificate is not trusted: check that its issuer is trusted" in line
    assert "expired" not in line


def failed_to(service: Service, email: str, status: Status | None) -> None:
    with service.session() as s, s.begin():
        person = None
        if status is not None:
            person = Participant(email=email, status=status, reply_token=f"t{abs(hash(email)) % 10**8}")
            s.add(person)
            s.flush()
        s.add(OutboundMessage(message_id=f"<f.{email}>", kind="confirm", mail_from="coffee@example.org",
                              recipients=email, subject="Please confirm", raw=b"x", status=OutStatus.FAILED,
                              last_error="550 5.1.1 no such user", participant_id=person.id if person else None))


@pytest.mark.parametrize("status, advice", [
    (Status.PENDING, "they never confirmed their address, so nothing else goes to it: nothing to do"),
    (Status.ACTIVE, "check the address with the person, or pause them (`unmentoring participants pause EMAIL`)"),
    (Status.PAUSED, "they are paused: check the address with them"),
    (None, "check each address with its owner"),
])
def test_a_failed_email_gets_advice_for_its_recipient(status: Status | None, advice: str, service: Service) -> None:
    failed_to(service, "gone@x.example", status)
    out = service.cli("status").output
    lines = out.splitlines()
    failed = next(i for i, line in enumerate(lines) if "failed (last tried" in line)
    assert advice in lines[failed + 1]
    if status != Status.ACTIVE:
        assert "participants pause" not in out, "pausing someone who is not taking part does nothing"
