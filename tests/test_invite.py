"""Our calendar invitations, read by two independent readers and a real CalDAV server (pure, plus Radicale).

What ../shared/CALENDAR.md §6 asks: CRLF only, lines of at most 75 octets, the Content-Type's method equal
to METHOD, the properties RFC 5546 requires for each method, the same UID across an invitation, its update
and its cancellation with SEQUENCE rising, UTC times only; icalendar and vobject agree on the instants; and
Radicale, started here, accepts the event and finds it at the right UTC time in a time-range REPORT.
"""
from __future__ import annotations

import base64
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import given, settings, strategies as st
import pytest
import vobject

from mailer.compose import CalendarPart, Envelope, address, compose
from mailer.invite import CANCEL, REQUEST, Meeting, calendar_object, new_uid
from mailer.render import Rendered
from meetings.booking import describe

NOW = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
LONDON = ZoneInfo("Europe/London")
MEETING = Meeting(
    uid=new_uid("example.org"), sequence=0, start=datetime(2026, 11, 24, 11, tzinfo=timezone.utc), minutes=30,
    summary="Coffee Roulette: Ann Äbel, Bo Li and Cy O'Neill", location="https://meet.example.org/coffee-3f9a",
    description="Join: https://meet.example.org/coffee-3f9a\nTo move it, reply with the number of another time.",
    organizer=("coffee@example.org", "Coffee Roulette"),
    attendees=(("ann@example.com", 'Ann "Annie" Äbel'), ("bo@example.net", "Bo Li"), ("cy@example.gov.uk", "Cy O'Neill")),
)
VERSIONS = [(REQUEST, MEETING), (REQUEST, Meeting(**{**MEETING.__dict__, "sequence": 1,
                                                    "start": datetime(2026, 11, 26, 14, tzinfo=timezone.utc)})),
            (CANCEL, Meeting(**{**MEETING.__dict__, "sequence": 2, "start": datetime(2026, 11, 26, 14, tzinfo=timezone.utc)}))]
REQUIRED = {REQUEST: {"UID", "DTSTAMP", "ORGANIZER", "ATTENDEE", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"},
            CANCEL: {"UID", "DTSTAMP", "ORGANIZER", "ATTENDEE", "SEQUENCE", "STATUS", "DTSTART"}}


@pytest.mark.parametrize("method, meeting", VERSIONS, ids=["invitation", "update", "cancellation"])
def test_the_object_is_well_formed(method: str, meeting: Meeting) -> None:
    data = calendar_object(meeting, method, NOW)
    assert b"\n" not in data.replace(b"\r\n", b"") and data.endswith(b"\r\n"), "CRLF line ends only"
    assert max(len(line) for line in data.split(b"\r\n")) <= 75, "folded at 75 octets"
    calendar = icalendar.Calendar.from_ical(data)
    assert (str(calendar["METHOD"]), str(calendar["VERSION"]), "PRODID" in calendar) == (method, "2.0", True)
    assert "UID" not in calendar, "only the event has a UID"
    [event] = calendar.walk("VEVENT")
    assert REQUIRED[method] <= set(event.keys())
    assert str(event["STATUS"]) == ("CONFIRMED" if method == REQUEST else "CANCELLED")
    assert (str(event["UID"]), event["SEQUENCE"]) == (MEETING.uid, meeting.sequence)
    assert b"TZID" not in data and b"VTIMEZONE" not in data and b"DTSTART:" in data and b"Z\r\n" in data
    assert event["DTSTAMP"].dt == NOW
    attendees = [(str(a).removeprefix("mailto:"), dict(a.params)) for a in event["ATTENDEE"]]
    assert [a for a, _ in attendees] == [a for a, _ in meeting.attendees]
    if method == REQUEST:
        assert all(p["RSVP"] == "TRUE" and p["PARTSTAT"] == "NEEDS-ACTION" for _, p in attendees)
    assert "Ann 'Annie' Äbel" in data.decode("utf-8"), "UTF-8 intact, no quote inside a quoted CN"


@pytest.mark.parametrize("method, meeting", VERSIONS, ids=["invitation", "update", "cancellation"])
def test_two_independent_readers_agree_on_the_instants(method: str, meeting: Meeting) -> None:
    data = calendar_object(meeting, method, NOW)
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    other = vobject.readOne(data.decode("utf-8")).vevent
    assert event["DTSTART"].dt == other.dtstart.value == meeting.start
    assert event["DTEND"].dt == other.dtend.value == meeting.start + timedelta(minutes=30)
    assert other.uid.value == meeting.uid and int(other.sequence.value) == meeting.sequence
    assert other.summary.value == meeting.summary and other.location.value == meeting.location
    assert sorted(a.value.lower() for a in other.attendee_list) == sorted(f"mailto:{a}" for a, _ in meeting.attendees)


def test_the_email_has_the_shape_mail_clients_show_as_an_invitation() -> None:
    data = calendar_object(MEETING, REQUEST, NOW)
    envelope = Envelope(sender=address("coffee@example.org", "Coffee Roulette"), to=[address("ann@example.com", "Ann Äbel")],
                        reply_to=[address("coffee+tok@example.org")], message_id="<invitation.tok.1@example.org>",
                        date=NOW, loop_id="example.org", calendar=CalendarPart(REQUEST, data))
    raw = compose(Rendered("Invitation: coffee", "Your meeting is booked.\n", "<p>Your meeting is booked.</p>"), envelope)
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    calendar = alternative.get_payload()[2]
    assert (calendar.get_param("method"), calendar.get_param("charset"), calendar["Content-Transfer-Encoding"]) == \
        ("REQUEST", "UTF-8", "base64")
    assert calendar.get_payload(decode=True) == data == attachment.get_payload(decode=True)
    assert (attachment.get_content_type(), attachment.get_filename()) == ("application/ics", "invite.ics")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n")) and raw.isascii()


def test_a_method_that_is_not_a_token_never_reaches_a_header() -> None:
    with pytest.raises(ValueError):
        calendar_object(MEETING, "PUBLISH\r\nBcc: x@y", NOW)


@pytest.mark.parametrize("start, local", [
    (datetime(2027, 3, 26, 11, tzinfo=timezone.utc), "Friday 26 March, 11:00-11:30 (Europe/London)"),  # GMT, before
    (datetime(2027, 3, 29, 10, tzinfo=timezone.utc), "Monday 29 March, 11:00-11:30 (Europe/London)"),  # BST, after
    (datetime(2027, 10, 29, 10, tzinfo=timezone.utc), "Friday 29 October, 11:00-11:30 (Europe/London)"),  # BST
    (datetime(2027, 11, 1, 11, tzinfo=timezone.utc), "Monday 1 November, 11:00-11:30 (Europe/London)"),  # GMT again
])
def test_times_hold_across_both_clock_changes(start: datetime, local: str) -> None:
    """The object carries UTC; the text gives the reader's local time, right on both sides of each change."""
    assert describe(start, 30, [LONDON]) == local
    event = icalendar.Calendar.from_ical(calendar_object(Meeting(**{**MEETING.__dict__, "start": start}), REQUEST, NOW))
    assert event.walk("VEVENT")[0]["DTSTART"].dt == start


# --- a real CalDAV server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def radicale() -> Iterator[str]:
    """Radicale on loopback, any user and password, storage in a temporary folder; stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="radicale-"))
    port = _free_port()
    (folder / "config").write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n[logging]\nlevel = warning\n")
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(folder / "config")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else "radicale stopped"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _dav(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    auth = base64.b64encode(b"ann:any").decode()
    request = urllib.request.Request(url, data=body or None, method=method,
                                     headers={"Authorization": f"Basic {auth}", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


REPORT = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start}" end="{end}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


def _found(base: str, start: datetime, end: datetime) -> bool:
    body = REPORT.format(start=f"{start:%Y%m%dT%H%M%SZ}", end=f"{end:%Y%m%dT%H%M%SZ}").encode()
    status, answer = _dav("REPORT", f"{base}/ann/coffee/", body, {"Depth": "1", "Content-Type": "application/xml"})
    assert status == 207, answer
    return b"invite.ics" in answer


@pytest.mark.parametrize("start", [datetime(2026, 11, 24, 11, tzinfo=timezone.utc),
                                   datetime(2027, 3, 29, 10, tzinfo=timezone.utc)], ids=["winter", "after-clock-change"])
def test_radicale_accepts_the_event_at_the_right_utc_time(radicale: str, start: datetime) -> None:
    """A real CalDAV parser: PUT (METHOD stripped, as RFC 4791 §4.1 wants), then a REPORT finds it at its
    half hour and not in the hour either side (a wrong offset would move it by one)."""
    status, _ = _dav("MKCALENDAR", f"{radicale}/ann/coffee/")
    assert status in (201, 409), status  # 409: made by the other parameter's run
    calendar = icalendar.Calendar.from_ical(calendar_object(Meeting(**{**MEETING.__dict__, "start": start}), REQUEST, NOW))
    calendar.pop("METHOD")
    _dav("DELETE", f"{radicale}/ann/coffee/invite.ics")
    status, answer = _dav("PUT", f"{radicale}/ann/coffee/invite.ics", calendar.to_ical(),
                          {"Content-Type": "text/calendar; charset=utf-8"})
    assert status == 201, answer
    assert _found(radicale, start + timedelta(minutes=5), start + timedelta(minutes=25))
    assert not _found(radicale, start - timedelta(hours=1), start - timedelta(minutes=1))
    assert not _found(radicale, start + timedelta(minutes=31), start + timedelta(hours=1, minutes=30))


NAMES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=150, deadline=None)
@given(names=st.lists(NAMES, min_size=2, max_size=4), place=NAMES,
       start=st.datetimes(datetime(2026, 1, 1), datetime(2030, 12, 31), timezones=st.just(timezone.utc)),
       sequence=st.integers(0, 10_000), method=st.sampled_from([REQUEST, CANCEL]))
def test_whatever_people_type_both_readers_agree(names: list[str], place: str, start: datetime, sequence: int,
                                                 method: str) -> None:
    """Names and places come from profiles: any text must leave a well-formed object both readers read alike."""
    start = start.replace(microsecond=0, second=0)
    attendees = tuple((f"p{n}@example.org", name) for n, name in enumerate(names))
    meeting = Meeting(**{**MEETING.__dict__, "start": start, "sequence": sequence, "location": place,
                         "summary": "Coffee: " + ", ".join(names), "attendees": attendees})
    data = calendar_object(meeting, method, NOW)
    assert b"\n" not in data.replace(b"\r\n", b"") and max(len(line) for line in data.split(b"\r\n")) <= 75
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    other = vobject.readOne(data.decode("utf-8")).vevent
    assert event["DTSTART"].dt == other.dtstart.value == start
    assert [str(a).removeprefix("mailto:") for a in event["ATTENDEE"]] == [a for a, _ in attendees]
    assert int(other.sequence.value) == sequence
