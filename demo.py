"""`unmentoring demo`: the service working on real mail, with nothing to install or configure.

A pure-Python IMAP server (pymap) and an in-process SMTP server (aiosmtpd) run on
loopback. Simulated people email JOIN to the service, read what it sends them and
reply the way real mail clients do, while the real `tick` runs in between. Every
email sent is kept in a Maildir so you can read them afterwards.
"""
from __future__ import annotations

import mailbox
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Iterator

import click
from aiosmtpd.controller import Controller
from imapclient import IMAPClient

import config
from models import utcnow
from models.db import make_engine, upgrade
from models.summary import collect_status
from tick import tick

SERVICE = "coffee@demo.example"
PEOPLE = [
    ("Priya Shah", "priya.shah@leeds.gov.uk", "plain"),
    ("Tom Evans", "tom.evans@nhs.net", "html"),
    ("Aisha Bello", "aisha.bello@cabinetoffice.gov.uk", "plain"),
    ("Gareth Price", "gareth.price@cardiff.gov.uk", "out-of-office"),
    ("Mei Lin", "mei.lin@manchester.gov.uk", "confused"),
]


@dataclass
class Sink:
    """SMTP handler: keeps every accepted message in memory and in a Maildir."""

    maildir: mailbox.Maildir
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        self.maildir.add(raw)
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(raw, policy=default)))
        return "250 OK"

    def inbox_of(self, address: str) -> list[EmailMessage]:
        return [msg for rcpts, msg in self.received if address in rcpts]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_imap(port: int, password: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from pymap.main import main; main()", "--host", "127.0.0.1",
               "--port", str(port), "--no-tls", "dict", "--demo-user", "coffee", "--demo-password", password]
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


def write_config(workdir: Path, imap_port: int, smtp_port: int, password: str) -> Path:
    path = workdir / "unmentoring.toml"
    path.write_text(
        f'[service]\naddress = "{SERVICE}"\nname = "Coffee Roulette (demo)"\n'
        f'organiser = "organiser@demo.example"\ndata_dir = "data"\n\n'
        f'[imap]\nhost = "127.0.0.1"\nport = {imap_port}\ntls = "none"\nuser = "coffee"\npassword = "{password}"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\n'
    )
    return path


def person_mail(name: str, email: str, subject: str, text: str = "", html: str = "",
                reply_to: EmailMessage | None = None, headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{name} <{email}>"
    msg["To"] = str(reply_to["Reply-To"]) if reply_to else SERVICE
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=email.split("@")[1])
    if reply_to is not None:
        msg["In-Reply-To"] = msg["References"] = reply_to["Message-ID"]
    for key, value in (headers or {}).items():
        msg[key] = value
    if html:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text)
    return msg.as_bytes()


def replies(sink: Sink) -> Iterator[bytes]:
    """Each simulated person answers what the service sent them, in their own style."""
    for name, email, style in PEOPLE:
        received = sink.inbox_of(email)
        if not received:
            continue
        latest = received[-1]
        quoted = "\n".join(f"> {line}" for line in latest.get_body(("plain",)).get_content().splitlines())
        subject = f"Re: {latest['Subject']}"
        if style == "plain":
            yield person_mail(name, email, subject, f"Confirm\n\nOn Monday, Coffee Roulette wrote:\n{quoted}", reply_to=latest)
        elif style == "html":
            html = f'<div dir="ltr">CONFIRM - thanks!</div><div class="gmail_quote">{quoted}</div>'
            yield person_mail(name, email, subject, html=html, reply_to=latest)
        elif style == "out-of-office":
            yield person_mail(name, email, f"Automatic reply: {latest['Subject']}",
                              "I am out of the office until Monday.", headers={"Auto-Submitted": "auto-replied"})
        else:
            yield person_mail(name, email, subject, "Sorry, what is this? Do I need to do anything?", reply_to=latest)


def deliver(imap_port: int, password: str, messages: list[bytes]) -> None:
    with IMAPClient("127.0.0.1", imap_port, ssl=False) as client:
        client.login("coffee", password)
        for raw in messages:
            client.append("INBOX", raw)


def run_demo(keep: str | None) -> None:
    workdir = Path(keep or tempfile.mkdtemp(prefix="unmentoring-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    password, imap_port, smtp_port = secrets.token_hex(8), free_port(), free_port()
    sink = Sink(mailbox.Maildir(workdir / "sent-mail", create=True))
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    imap = start_imap(imap_port, password)
    controller.start()
    try:
        simulate(workdir, imap_port, smtp_port, password, sink)
    finally:
        controller.stop()
        imap.terminate()
        imap.wait(10)


def simulate(workdir: Path, imap_port: int, smtp_port: int, password: str, sink: Sink) -> None:
    settings = config.load(write_config(workdir, imap_port, smtp_port, password), env={})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    click.echo(f"Demo in {workdir}: {len(PEOPLE)} people write to {SERVICE}.")
    steps = [
        ("Everyone emails JOIN", [person_mail(n, e, "JOIN", "Hello! I'd like to take part.") for n, e, _ in PEOPLE]),
        ("They reply to the confirmation, each in their own way", None),
    ]
    for label, messages in steps:
        deliver(imap_port, password, messages if messages is not None else list(replies(sink)))
        report = tick(engine, settings)
        click.echo(f"- {label}: {report.poll.seen} emails read, {report.send.sent} sent")
    figures = collect_status(engine)
    click.echo(f"Participants: {figures['participants']}; emails sent: {figures['outbox_sent']}.")
    click.echo(f"Read every email the service sent in the Maildir {workdir / 'sent-mail'}")
    click.echo(f"Settings used: {workdir / 'unmentoring.toml'} (the IMAP server is gone when the demo ends).")
    engine.dispose()
