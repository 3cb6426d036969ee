"""Write the emails a simulated person sends, in the style of their mail client (pure)."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from icalendar import Calendar, Event, vCalAddress

from demo.community import Person

SERVICE = "coffee@demo.example"


def fresh(person: Person, subject: str, text: str, when: datetime, to: str = SERVICE,
          headers: dict[str, str] | None = None) -> bytes:
    msg = _message(person, subject, when, to)
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text)
    return msg.as_bytes()


def reply(person: Person, original: EmailMessage, text: str, when: datetime, reply_all: bool = True) -> bytes:
    """A reply to one of our emails: to its Reply-To (all of it for reply-all), quoting it as their client does."""
    reply_to = original["Reply-To"].addresses
    to = ", ".join(str(a) for a in (reply_to if reply_all else reply_to[:1]) if a.addr_spec != person.email)
    msg = _message(person, f"Re: {original['Subject']}", when, to)
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = " ".join(filter(None, [original.get("References", ""), original["Message-ID"]]))
    quoted = original.get_body(("plain",)).get_content()
    if person.style == "html":
        msg.set_content(_html(text, quoted), subtype="html")
    else:
        msg.set_content(_plain(person.style, text, quoted, original, when))
    return msg.as_bytes()


def calendar_answer(person: Person, invitation: EmailMessage, partstat: str, when: datetime) -> bytes | None:
    """What a calendar sends when its owner clicks Accept or Decline on our invitation: an iTIP REPLY naming
    only them, to the ORGANIZER's address (not to Reply-To), From their own address. None for a cancellation."""
    event = invitation_event(invitation)
    if event is None:
        return None
    organizer = event["ORGANIZER"]
    answer = Event.new(uid=str(event["UID"]), sequence=int(event.get("SEQUENCE", 0)), stamp=when, start=event.start,
                       end=event.end, summary=f"{partstat.title()}: {event['SUMMARY']}",
                       organizer=vCalAddress.new(str(organizer), cn=organizer.params.get("CN")),
                       attendees=[vCalAddress.new(f"mailto:{person.email}", cn=person.name, partstat=partstat)])
    calendar = Calendar.new(method="REPLY", prodid="-//Demo Mail//Calendar 1.0//EN", subcomponents=[answer])
    calendar.pop("UID", None)
    msg = _message(person, f"{partstat.title()}: {invitation['Subject']}", when, organizer.email)
    msg["In-Reply-To"] = invitation["Message-ID"]
    msg["References"] = invitation["Message-ID"]
    msg.set_content(f"{person.name} has {partstat.lower()} this invitation.")
    msg.add_alternative(calendar.to_ical(), maintype="text", subtype="calendar", cte="base64",
                        params={"method": "REPLY", "charset": "UTF-8"})
    return msg.as_bytes()


def invitation_event(msg: EmailMessage) -> Event | None:
    """The VEVENT of our invitation (METHOD:REQUEST) in `msg`; None for a cancellation or no calendar part."""
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            calendar = Calendar.from_ical(part.get_payload(decode=True))
            events = calendar.walk("VEVENT")
            return events[0] if str(calendar.get("METHOD", "")).upper() == "REQUEST" and events else None
    return None


def auto_reply(person: Person, original: EmailMessage, when: datetime) -> bytes:
    msg = _message(person, f"Automatic reply: {original['Subject']}", when, SERVICE)
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(f"Thank you for your email. I am out of the office until Monday with limited access to email.\n\n"
                    f"{person.name}")
    return msg.as_bytes()


def bounce(address: str, original: EmailMessage, when: datetime) -> bytes:
    """A Postfix-style delivery report for mail to an address that no longer exists."""
    boundary = "demo-report"
    text = (f"From: MAILER-DAEMON@mx.demo.example\r\nTo: {SERVICE}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {make_msgid(domain='mx.demo.example')}\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.demo.example.\r\n"
            f"Your message could not be delivered: the mailbox does not exist.\r\n\r\n"
            f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.demo.example\r\n\r\n"
            f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: User unknown\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original['Message-ID']}\r\n"
            f"Subject: {original['Subject']}\r\n\r\n--{boundary}--\r\n")
    return text.encode()


def _message(person: Person, subject: str, when: datetime, to: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{person.name} <{person.email}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=person.email.split("@")[1])
    return msg


def _plain(style: str, text: str, quoted: str, original: EmailMessage, when: datetime) -> str:
    lines = "\n".join(f"> {line}" for line in quoted.splitlines())
    if style == "outlook":
        return (f"{text}\n\n-----Original Message-----\nFrom: {original['From']}\nSent: {when:%d %B %Y %H:%M}\n"
                f"Subject: {original['Subject']}\n\n{quoted}")
    if style == "mobile":
        return f"{text}\n\nSent from my iPhone\n\nOn {when:%d %b %Y}, at 09:14, {original['From']} wrote:\n\n{lines}"
    return f"{text}\n\nOn {when:%a, %d %b %Y} at 09:14, {original['From']} wrote:\n{lines}"


def _html(text: str, quoted: str) -> str:
    body = "<br>".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in text.splitlines())
    old = "<br>".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in quoted.splitlines())
    return (f'<html><body><div dir="ltr">{body}</div><br><div class="gmail_quote"><div class="gmail_attr">'
            f"Earlier, Coffee Roulette wrote:</div><blockquote>{old}</blockquote></div></body></html>")
