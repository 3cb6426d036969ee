"""Build the raw emails a participant's mail client would send us."""
from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone

SERVICE = "coffee@example.org"


def incoming(
    sender: str,
    subject: str,
    body: str = "",
    *,
    to: str = SERVICE,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.net")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is not None and not body:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def reply_to(original: EmailMessage, sender: str, text: str) -> bytes:
    """A typical top-posted reply: new text, an attribution line, the original quoted."""
    quoted = "\n".join(f"> {line}" for line in original.get_body(("plain",)).get_content().splitlines())
    body = f"{text}\n\nOn Mon, 23 Nov 2026 at 09:00, Coffee Roulette <{SERVICE}> wrote:\n{quoted}\n"
    return incoming(
        sender, f"Re: {original['Subject']}", body, to=str(original["Reply-To"].addresses[0].addr_spec),
        in_reply_to=original["Message-ID"],
    )
