"""The demo's mail servers on loopback: pymap (pure-Python IMAP) and an aiosmtpd sink writing a Maildir."""
from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import click
from imapclient import IMAPClient


@dataclass
class Sink:
    """SMTP handler: keeps every accepted message in memory and in a Maildir for people to read."""

    maildir: mailbox.Maildir
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        self.maildir.add(raw)
        message = message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append(([r.lower() for r in envelope.rcpt_tos], message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_imap(port: int, user: str, password: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from pymap.main import main; main()", "--host", "127.0.0.1",
               "--port", str(port), "--no-tls", "dict", "--demo-user", user, "--demo-password", password]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise click.ClickException("the demo IMAP server (pymap) did not start")


class Delivery:
    """What the organiser's mail provider does: put each email people send into the service's inbox.
    One connection for the whole demo (pymap spends ~0.1 s checking each login)."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.client = IMAPClient("127.0.0.1", port, ssl=False)
        self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.login(user, password)

    def deliver(self, messages: list[bytes]) -> None:
        for raw in messages:
            self.client.append("INBOX", raw)

    def close(self) -> None:
        self.client.logout()
