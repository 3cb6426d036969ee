"""The email we build directly reads exactly like the one `EmailMessage` builds.

Whatever a participant's name, a subject or a body holds, a mail client parsing the two
sees the same headers, the same addresses and the same two parts, and every line is
within SMTP's 998 octets.
"""
from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.compose import Attachment, Envelope, address, compose, compose_message
from mailer.render import Rendered

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
NAMES = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
                  st.from_regex(r"[A-Za-z][A-Za-z' .-]{0,40}", fullmatch=True), st.just(""))
LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,30}[a-z0-9]", fullmatch=True).filter(lambda s: ".." not in s)
MESSAGE_IDS = st.from_regex(r"<[A-Za-z0-9.$_-]{1,90}@[a-z0-9.-]{1,40}>", fullmatch=True)


@st.composite
def emails(draw: st.DrawFn) -> tuple[Rendered, Envelope]:
    people = draw(st.lists(st.tuples(LOCAL, NAMES), min_size=1, max_size=4))
    thread = draw(st.one_of(st.none(), MESSAGE_IDS))
    unsubscribe = draw(st.sampled_from(["", "coffee+t7x9@example.org"]))
    rendered = Rendered(subject=draw(TEXT), text=draw(TEXT), html=draw(TEXT))
    env = Envelope(
        sender=address("coffee@example.org", draw(NAMES)),
        to=[address(f"{local}@org.example.net", name) for local, name in people],
        reply_to=[address("coffee+t7x9@example.org", "Coffee Roulette")] + [address(f"{p}@org.example.net") for p, _ in people[1:]],
        message_id=draw(MESSAGE_IDS), date=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc),
        loop_id="example.org", auto_submitted=draw(st.sampled_from(["auto-generated", "auto-replied"])),
        unsubscribe=unsubscribe, unsubscribe_url="https://example.org/u/t7x9" if unsubscribe and draw(st.booleans()) else "",
        in_reply_to=thread, references=[thread] if thread else [],
    )
    return rendered, env


def as_read(raw: bytes) -> dict[str, object]:
    """What a mail client sees: decoded headers, addresses as (name, address), the two parts' text.

    Space around a header's value is not part of it: `EmailMessage` starts some folded
    values on the next line, and the parser then keeps the fold's space."""
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    seen: dict[str, object] = {}
    for name, value in msg.items():
        addresses = getattr(value, "addresses", None)
        seen[name] = [(a.display_name, a.addr_spec) for a in addresses] if addresses is not None else str(value).strip()
    seen.pop("Content-Type")
    assert msg.get_content_type() == "multipart/alternative"
    for subtype in ("plain", "html"):
        part = msg.get_body((subtype,))
        assert part is not None and part.get_content_charset() == "utf-8"
        seen[subtype] = part.get_content()
    return seen


def lines_ok(raw: bytes) -> bool:
    return all(len(line) <= 998 for line in raw.split(b"\r\n")) and b"\n" not in raw.replace(b"\r\n", b"")


@settings(max_examples=300, deadline=None)
@given(emails())
def test_direct_email_reads_like_the_standard_librarys(email: tuple[Rendered, Envelope]) -> None:
    rendered, env = email
    direct, general = compose(rendered, env), compose_message(rendered, env).as_bytes()
    assert as_read(direct) == as_read(general)
    assert lines_ok(direct)


def test_plain_headers_fold_by_hand_within_78_characters() -> None:
    subject = "Your coffee match for December: Sam Okafor (Leeds City Council) and two colleagues from the NHS"
    people = [("sam.okafor@leeds-city-council.example.gov.uk", "Sam Okafor"),
              ("alex.jones@nhs-trust.example.nhs.uk", "Alex Jones"), ("kim@cabinet-office.example.gov.uk", "")]
    rendered = Rendered(subject, "Hello Sam,\n\nMeet Alex.\n", "<p>Hello Sam,</p>")
    env = Envelope(sender=address("coffee@example.org", "Coffee Roulette"),
                   to=[address(email, name) for email, name in people],
                   reply_to=[address("coffee+t7x9@example.org", "Coffee Roulette")], message_id="<intro.t7x9.1@example.org>",
                   date=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc), loop_id="example.org")
    raw = compose(rendered, env)
    head = raw.split(b"\r\n\r\n")[0].decode("ascii").split("\r\n")
    assert "From: Coffee Roulette <coffee@example.org>" in head
    assert all(len(line) <= 78 for line in head) and sum(line.startswith(" ") for line in head) >= 2
    seen = as_read(raw)
    assert seen["Subject"] == subject and seen["To"] == [(name, email) for email, name in people]


def test_a_non_ascii_name_is_encoded_and_reads_back() -> None:
    rendered = Rendered("Welcome, Zoë", "Hello Zoë\n", "<p>Hello Zoë</p>")
    env = Envelope(sender=address("coffee@example.org", "Coffee Roulette"), to=[address("zoe@nhs.example", "Zoë Ñúñez")],
                   reply_to=[address("coffee+t7x9@example.org")], message_id="<a.b.c@example.org>",
                   date=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc), loop_id="example.org")
    raw = compose(rendered, env)
    assert raw.isascii()
    seen = as_read(raw)
    assert seen["To"] == [("Zoë Ñúñez", "zoe@nhs.example")] and seen["Subject"] == "Welcome, Zoë"
    assert str(seen["plain"]).splitlines() == ["Hello Zoë"]


def test_an_attachment_goes_through_the_standard_library() -> None:
    rendered = Rendered("Your data", "Attached.\n", "<p>Attached.</p>")
    env = Envelope(sender=address("coffee@example.org"), to=[address("sam@council.example")], reply_to=[address("coffee@example.org")],
                   message_id="<d.x.1@example.org>", date=datetime(2026, 11, 23, tzinfo=timezone.utc), loop_id="example.org",
                   attachments=[Attachment("mydata.json", "application/json", b'{"name": "Sam"}')])
    msg = message_from_bytes(compose(rendered, env), policy=default)
    assert isinstance(msg, EmailMessage)
    files = [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()]
    assert files == [("mydata.json", b'{"name": "Sam"}')]
