"""The email we write reads exactly like the one the standard library's `EmailMessage` builds,
and is sound on the wire.

Whatever a participant's name, a subject or a body holds, a mail client parsing the two
sees the same headers, the same addresses and the same parts; every line is CRLF-ended and
within SMTP's 998 octets, header lines within 78 unless one unbreakable identifier is longer,
and nothing anyone typed can start a header of its own.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from email.header import decode_header, make_header
from email.policy import SMTP, compat32, default

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.compose import LOOP_HEADER, Attachment, Envelope, address, compose, compose_copies
from mailer.headers import clean_header_text
from mailer.headers import Unwritable
from mailer.render import Rendered
from mailer.threads import references

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


def oracle(rendered: Rendered, env: Envelope) -> bytes:
    """The same email built by `EmailMessage` (as mailer/compose.py did until November 2026)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"], msg["To"], msg["Reply-To"] = env.sender, env.to, env.reply_to
    msg["Subject"] = clean_header_text(rendered.subject)
    msg["Date"] = format_datetime(env.date)
    msg["Message-ID"] = env.message_id
    if env.in_reply_to:
        msg["In-Reply-To"] = env.in_reply_to
    if env.references:
        msg["References"] = " ".join(env.references)
    msg["Auto-Submitted"] = env.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = env.loop_id
    if env.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{env.unsubscribe_url}>, <mailto:{env.unsubscribe}?subject=LEAVE>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif env.unsubscribe:
        msg["List-Unsubscribe"] = f"<mailto:{env.unsubscribe}?subject=LEAVE>"
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for item in env.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg.as_bytes()


def as_read(raw: bytes, addresses: bool = True) -> dict[str, object]:
    """What a mail client sees: decoded headers in order (addresses as (name, address)), and every
    leaf part's type, charset, file name and content. Content-Type and MIME-Version are left to
    that structure (the boundaries differ).

    Space around a header's value is not part of it: `EmailMessage` starts some folded values
    on the next line, and the parser then keeps the fold's space."""
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    seen: list[tuple[str, object]] = []
    for (name, value), (_, unparsed) in zip(msg.items(), message_from_bytes(raw, policy=compat32).items()):
        if name in ("From", "To", "Reply-To"):
            if addresses:
                seen.append((name, names_and_addresses(unparsed)))
        elif name not in ("Content-Type", "MIME-Version"):
            seen.append((name, str(value).strip()))
    parts = [(p.get_content_type(), p.get_content_charset(), p.get_filename(), p.get_content())
             for p in msg.walk() if not p.is_multipart()]
    return {"headers": seen, "type": msg.get_content_type(), "parts": parts}


def names_and_addresses(unparsed: str) -> list[tuple[str, str]]:
    """Addresses as a mail client reads them. Not with policy.default: its parser keeps the space
    between two encoded words of one name, which RFC 2047 6.2 says to drop (and Gmail, Outlook and
    Thunderbird do), so a long non-ASCII name split into several words would read wrongly."""
    unfolded = re.sub(r"\r\n([ \t])", r"\1", unparsed)
    return [(str(make_header(decode_header(name))), address) for name, address in getaddresses([unfolded])]


def header_of(raw: bytes, name: str) -> object:
    return dict(as_read(raw)["headers"])[name]  # type: ignore[arg-type]


def sound_on_the_wire(raw: bytes) -> None:
    """ASCII, CRLF only, lines within 998; a header block of named fields and their continuations,
    no blank or empty continuation, lines within 78 unless one unbreakable token is longer."""
    assert raw.isascii() and b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
    for line in head:
        assert re.match(r"[!-9;-~]+:", line) or (line[:1] in " \t" and line.strip()), line
        assert len(line) <= 78 or len(line.split(": ", 1)[-1].strip().split(" ")) == 1, line
        assert "=?" not in line or len(line) <= 76, line
    names = [line.split(":")[0] for line in head if line[:1] not in " \t"]
    assert names[-2:] == ["MIME-Version", "Content-Type"] and names[0] == "From"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(emails())
def test_our_email_reads_like_the_standard_librarys(email: tuple[Rendered, Envelope]) -> None:
    """Addresses and the subject are compared with what was meant, because `EmailMessage` gets some
    wrong: it can write the comma between two addresses as an encoded word ("=?utf-8?q?=2C?="),
    which no client reads as a separator, split a name's encoded word inside a character, or
    lose the space before a folded encoded word of the subject. Everything else is compared
    with what `EmailMessage` wrote."""
    rendered, env = email
    ours, theirs = as_read(compose(rendered, env)), as_read(oracle(rendered, env), addresses=False)
    meant = {"From": [(a.display_name, a.addr_spec) for a in [env.sender]],
             "To": [(a.display_name, a.addr_spec) for a in env.to],
             "Reply-To": [(a.display_name, a.addr_spec) for a in env.reply_to],
             "Subject": clean_header_text(rendered.subject)}
    assert {name: value for name, value in ours["headers"] if name in meant} == meant  # type: ignore[union-attr]
    for read in (ours, theirs):
        read["headers"] = [(name, value) for name, value in read["headers"] if name not in meant]  # type: ignore[union-attr]
    assert ours == theirs
    sound_on_the_wire(compose(rendered, env))


WIDE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=250)
INJECTIONS = st.sampled_from([
    "=?utf-8?q?=0D=0AX-Injected:_yes=0D=0A=0D=0AFake_body?=", "=?utf-8?b?DQpCY2M6IHZAZS5vcmc=?=",
    "Sam =?iso-8859-1?q?=0A?= Okafor", 'Dr. "Sam" O\\Brien, (NHS) <sam@evil.example>',
])
LONG_WORDS = st.from_regex(r"[A-Za-z]{70,120} [A-Za-z]{70,120}", fullmatch=True)
LONG_IDS = st.from_regex(r"<[A-Za-z0-9.$_-]{60,300}@[a-z0-9.-]{1,40}\.example>", fullmatch=True)


@st.composite
def hostile_emails(draw: st.DrawFn) -> tuple[Rendered, Envelope, list[str]]:
    names = draw(st.lists(st.one_of(WIDE, INJECTIONS, LONG_WORDS), min_size=1, max_size=3))
    thread = draw(st.one_of(MESSAGE_IDS, LONG_IDS))
    rendered = Rendered(subject=draw(st.one_of(WIDE, INJECTIONS, LONG_WORDS)), text=draw(WIDE), html=draw(WIDE))
    env = Envelope(
        sender=address("coffee@example.org", "Coffee Roulette"),
        to=[address(f"p{n}@org.example.net", name) for n, name in enumerate(names)],
        reply_to=[address("coffee+t7x9@example.org")], message_id=draw(LONG_IDS),
        date=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc), loop_id="example.org",
        unsubscribe="coffee+t7x9@example.org", unsubscribe_url="https://unsubscribe.example.org/" + "u" * draw(st.integers(0, 200)),
        in_reply_to=thread, references=[thread],
    )
    return rendered, env, names


@settings(max_examples=300, deadline=None, derandomize=True)
@given(hostile_emails())
def test_whatever_people_type_reads_back_exactly_and_stays_in_its_header(
    email: tuple[Rendered, Envelope, list[str]],
) -> None:
    """Long names, long words, encoded words typed as a name, Outlook-length Message-IDs, long URLs."""
    rendered, env, names = email
    raw = compose(rendered, env)
    sound_on_the_wire(raw)
    read = as_read(raw)
    headers = dict(read["headers"])  # type: ignore[arg-type]
    assert [name for name, _ in read["headers"]].count("To") == 1  # type: ignore[union-attr]
    assert headers["To"] == [(clean_header_text(n), f"p{i}@org.example.net") for i, n in enumerate(names)]
    assert headers["Subject"] == clean_header_text(rendered.subject)
    assert headers["In-Reply-To"] == headers["References"] == env.in_reply_to
    assert headers["Message-ID"] == env.message_id
    assert headers["List-Unsubscribe"] == f"<{env.unsubscribe_url}>, <mailto:{env.unsubscribe}?subject=LEAVE>"
    assert env.message_id.encode() in raw and env.unsubscribe_url.encode() in raw  # never encoded
    for (_, _, _, content), text in zip(read["parts"], (rendered.text, rendered.html)):  # type: ignore[arg-type]
        expected = text.replace("\r\n", "\n").replace("\r", "\n")
        assert content.replace("\r\n", "\n") == expected + ("" if expected.endswith("\n") else "\n")


def envelope(**changes: object) -> Envelope:
    base = dict(sender=address("coffee@example.org", "Coffee Roulette"), to=[address("sam@council.example", "Sam Okafor")],
                reply_to=[address("coffee+t7x9@example.org", "Coffee Roulette")], message_id="<intro.t7x9.1@example.org>",
                date=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc), loop_id="example.org")
    return Envelope(**{**base, **changes})  # type: ignore[arg-type]


def test_plain_headers_fold_by_hand_within_78_characters() -> None:
    subject = "Your coffee match for December: Sam Okafor (Leeds City Council) and two colleagues from the NHS"
    people = [("sam.okafor@leeds-city-council.example.gov.uk", "Sam Okafor"),
              ("alex.jones@nhs-trust.example.nhs.uk", "Alex Jones"), ("kim@cabinet-office.example.gov.uk", "")]
    raw = compose(Rendered(subject, "Hello Sam,\n\nMeet Alex.\n", "<p>Hello Sam,</p>"),
                  envelope(to=[address(email, name) for email, name in people]))
    head = raw.split(b"\r\n\r\n")[0].decode("ascii").split("\r\n")
    assert "From: Coffee Roulette <coffee@example.org>" in head
    assert all(len(line) <= 78 for line in head) and sum(line.startswith(" ") for line in head) >= 2
    assert header_of(raw, "Subject") == subject and header_of(raw, "To") == [(n, e) for e, n in people]


def test_a_name_typed_as_an_encoded_word_stays_text_in_the_to_header() -> None:
    """The standard library (3.11) decoded this into a header of its own: "X-Injected: yes" and a body."""
    payload = "=?utf-8?q?=0D=0AX-Injected:_yes=0D=0A=0D=0AFake_body?="
    raw = compose(Rendered(f"Meet {payload}", "Hello\n", "<p>Hello</p>"), envelope(to=[address("sam@council.example", payload)]))
    sound_on_the_wire(raw)
    assert b"\r\nX-Injected" not in raw and "X-Injected" not in dict(as_read(raw)["headers"])  # type: ignore[arg-type]
    assert [part[3] for part in as_read(raw)["parts"]] == ["Hello\r\n", "<p>Hello</p>\r\n"]  # type: ignore[union-attr]
    assert header_of(raw, "To") == [(payload, "sam@council.example")]
    assert header_of(raw, "Subject") == f"Meet {payload}"


def test_an_outlook_message_id_is_quoted_back_whole() -> None:
    outlook = "<PH0PR11MB5642E2A1B94F2C8D1D0B8C43A4E39@PH0PR11MB5642.namprd11.prod.outlook.com>"
    raw = compose(Rendered("Re: JOIN", "Welcome\n", "<p>Welcome</p>"), envelope(in_reply_to=outlook, references=[outlook]))
    assert f"In-Reply-To: {outlook}\r\n".encode() in raw and f"References: {outlook}\r\n".encode() in raw


def test_a_non_ascii_name_is_encoded_and_reads_back() -> None:
    raw = compose(Rendered("Welcome, Zoë", "Hello Zoë\n", "<p>Hello Zoë</p>"), envelope(to=[address("zoe@nhs.example", "Zoë Ñúñez")]))
    assert raw.isascii()
    assert header_of(raw, "To") == [("Zoë Ñúñez", "zoe@nhs.example")] and header_of(raw, "Subject") == "Welcome, Zoë"
    assert str(as_read(raw)["parts"][0][3]).splitlines() == ["Hello Zoë"]  # type: ignore[index]


def test_an_address_we_cannot_write_is_refused_with_the_reason() -> None:
    with pytest.raises(Unwritable, match="zoë@nhs.example"):
        compose(Rendered("Welcome", "Hello\n", "<p>Hello</p>"), envelope(to=[address("zoë@nhs.example")]))


def test_an_attachment_reads_like_the_standard_librarys() -> None:
    rendered = Rendered("Your network report", "Attached.\n", "<p>Attached.</p>")
    env = envelope(attachments=[Attachment("network-report-round-3.html", "text/html", "<p>Zoë</p>".encode() * 40)])
    raw = compose(rendered, env)
    sound_on_the_wire(raw)
    assert as_read(raw) == as_read(oracle(rendered, env))
    assert as_read(raw)["type"] == "multipart/mixed"


def test_a_long_references_chain_keeps_its_root_and_its_last_ids() -> None:
    """RFC 5322 3.6.4 allows trimming the middle; an id we cannot write back, or one already there, is left out."""
    chain = [f"<m{n}@x.org>" for n in range(30)]
    assert references("<me@x.org>", chain, []) == [chain[0], *chain[-8:], "<me@x.org>"]
    assert references("<me@x.org>", ["<a@x.org>", "not an id", "<a@x.org>", "<b\u00e9@x.org>"], []) == \
        ["<a@x.org>", "<me@x.org>"]
    assert references("<me@x.org>", [], ["<a@x.org>"]) == ["<a@x.org>", "<me@x.org>"]
    assert references("<me@x.org>", [], ["<a@x.org>", "<b@x.org>"]) == ["<me@x.org>"], "two In-Reply-To ids: neither"
    assert references("sha256:abc", ["<a@x.org>"], []) == [], "mail without a Message-ID cannot be answered in a thread"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(emails(), st.lists(st.tuples(LOCAL, st.sampled_from(["", "https://example.org/u/{}"])), min_size=1, max_size=3))
def test_a_groups_copies_are_each_the_email_compose_writes_for_that_member(
        email: tuple[Rendered, Envelope], members: list[tuple[str, str]]) -> None:
    """`compose_copies` writes the head and body once for all of a group's copies; each copy must still
    be byte for byte what `compose` writes with that member's List-Unsubscribe (bar the MIME boundary,
    which is random)."""
    rendered, env = email
    unsubscribes = [(f"coffee+{local}@example.org", url.format(local)) for local, url in members]
    copies = compose_copies(rendered, env, unsubscribes)
    alone = [compose(rendered, replace(env, unsubscribe=mailto, unsubscribe_url=url)) for mailto, url in unsubscribes]
    assert [re.sub(rb"=_[0-9a-f]{24}", b"=_B", c) for c in copies] == [re.sub(rb"=_[0-9a-f]{24}", b"=_B", a) for a in alone]
