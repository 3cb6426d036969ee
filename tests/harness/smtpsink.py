"""An SMTP server on loopback that keeps every message it accepts.

It can also misbehave on demand for fault tests:

    sink.fail_next = [(451, "try later"), (550, "no such user")]  # one reply per DATA
    sink.drop_after = 2  # the connection drops at the DATA after 2 captured
    sink.fail_mail_from = [(554, "5.4.5 daily sending quota exceeded")]  # one reply per MAIL FROM
    sink.refuse_rcpt["b@x.org"] = [(451, "4.2.1 mailbox busy")]  # one reply per RCPT TO that address
    sink.on_accept = callback  # called with each message captured, before its 250 goes back

A 421 reply closes the connection afterwards, as a real server going away does.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import logging
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from collections.abc import Callable
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.harness import free_port

logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())


@dataclass
class CapturedMessage:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=email.policy.default).parsebytes(raw))


class SmtpSink:
    """aiosmtpd `Controller` that captures messages into `.messages`.

    `fail_next`: SMTP replies, one popped per DATA instead of accepting it.
    `drop_after`: once `len(messages)` reaches it, the next DATA gets its
    connection aborted without a reply (message not captured) and
    `drop_after` goes back to None, so a retry on a new connection works.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *,
                 username: str | None = None, password: str | None = None,
                 auth_required: bool = False) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.username = username
        self.password = password
        self.require_auth = auth_required
        self.messages: list[CapturedMessage] = []
        self.fail_next: list[tuple[int, str]] = []
        self.drop_after: int | None = None
        self.fail_mail_from: list[tuple[int, str]] = []
        self.refuse_rcpt: dict[str, list[tuple[int, str]]] = {}
        self.on_accept: Callable[[CapturedMessage], None] | None = None
        self._changed = threading.Condition()
        self.controller: Controller | None = None

    def start(self) -> SmtpSink:
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if self.username is not None:
            options |= {"authenticator": self._authenticate, "auth_require_tls": False}
        self.controller = Controller(self, hostname=self.host, port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == self.username
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self.fail_mail_from:
            return _refuse(server, *self.fail_mail_from.pop(0))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.refuse_rcpt.get(address):
            return _refuse(server, *self.refuse_rcpt[address].pop(0))
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._changed:
            if self.fail_next:
                return _refuse(server, *self.fail_next.pop(0))
            if self.drop_after is not None and len(self.messages) >= self.drop_after:
                self.drop_after = None
                assert server.transport is not None
                server.transport.abort()
                return "421 dropped"
            raw = envelope.original_content or b""
            captured = CapturedMessage(mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
                                       raw=raw, message=parse(raw))
            self.messages.append(captured)
            self._changed.notify_all()
        if self.on_accept is not None:
            self.on_accept(captured)
        return "250 OK"

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()

    def wait_for(self, n: int, timeout: float = 5) -> list[CapturedMessage]:
        """Block until at least `n` messages are captured; TimeoutError if not."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"SMTP sink got {len(self.messages)} messages, wanted {n}")
                self._changed.wait(remaining)
            return list(self.messages)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _refuse(server: SMTP, code: int, text: str) -> str:
    """The reply `code text`; after a 421 the connection closes (once the reply has gone out)."""
    if code == 421 and server.transport is not None:
        asyncio.get_running_loop().call_soon(server.transport.close)
    return f"{code} {text}"


class OAuthSmtpSink(SmtpSink):
    """A sink that takes SASL XOAUTH2 logins, each token checked with `check(token) -> mailbox`."""

    def __init__(self, check: Callable[[str], str | None], **kwargs: Any) -> None:
        super().__init__(auth_required=True, **kwargs)
        self.check = check
        self.logins: list[str] = []

    def start(self) -> SmtpSink:
        self.controller = Controller(self, hostname=self.host, port=self.port, enable_SMTPUTF8=True,
                                     auth_require_tls=False, authenticator=lambda *args: AuthResult(success=False))
        self.controller.start()
        return self

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        response = args[1] if len(args) > 1 else (await server.challenge_auth("")).decode()
        fields = dict(part.split("=", 1) for part in base64.b64decode(response).decode().split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        owner = self.check(token)
        self.logins.append(user)
        if owner is None or owner != user:
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        return AuthResult(success=True, auth_data=user)
