"""Reading mail (pure): decoding, new text only, commands, robots."""
from __future__ import annotations

import time
from datetime import date

import pytest

from inbound.commands import Command, find_command
from inbound.quotes import new_text
from inbound.pausing import PauseRequest, parse_pause
from inbound.reasons import reason_group
from inbound.trust import authenticated
from inbound.parse import Unreadable, parse
from inbound.robots import robot_reason
from inbound.tokens import candidate_tokens
from tests.mail import incoming


def command_of(raw: bytes) -> str | None:
    mail = parse(raw)
    found = find_command(mail.subject, mail.body)
    return found.name if found else None


@pytest.mark.parametrize("subject, body, expected", [
    ("JOIN", "", "JOIN"),
    ("join", "", "JOIN"),
    ("Re: Please confirm you'd like to join Coffee Roulette", "Confirm\n\nOn Mon wrote:\n> reply CONFIRM", "CONFIRM"),
    ("AW: Bitte", "confirm.\n", "CONFIRM"),
    ("hello", "I'd like to JOIN", "JOIN"),
    ("hello", "I'm joining the call late, sorry", None),
    ("Re: Please confirm you'd like to join Coffee Roulette", "Sorry, what is this?", None),
    ("Re: Welcome", "Thanks!\n\n> Reply HELP for the list of commands.", None),
    ("Re: Welcome", "Thanks!\n\n-----Original Message-----\nFrom: x\nHELP", None),
    ("Re: something", "\n\nhelp\n", "HELP"),
])
def test_commands_come_from_subject_or_new_text(subject: str, body: str, expected: str | None) -> None:
    assert command_of(incoming("a@b.org", subject, body)) == expected


def test_our_cut_line_stops_the_search() -> None:
    body = "Sounds good\n## Please reply above this line ##\nTo confirm, reply CONFIRM"
    assert new_text(body) == "Sounds good"


def test_html_only_mail_is_read_without_the_quoted_part() -> None:
    html = '<div dir="ltr">CONFIRM</div><div class="gmail_quote">On Mon wrote: reply JOIN</div>'
    raw = incoming("a@b.org", "Re: hi", html=html)
    assert parse(raw).body == "CONFIRM"
    assert command_of(raw) == "CONFIRM"


def test_windows_1252_and_encoded_headers_are_decoded() -> None:
    raw = (b"From: =?iso-8859-1?q?Ren=E9e_Dupr=E9?= <renee@example.fr>\r\nTo: coffee@example.org\r\n"
           b"Subject: =?utf-8?b?Sk9JTiDimJU=?=\r\nMessage-ID: <1@x>\r\n"
           b"Content-Type: text/plain; charset=windows-1252\r\n\r\nJ\x92aimerais participer \x96 merci\r\n")
    mail = parse(raw)
    assert mail.sender_name == "Renée Dupré" and mail.subject == "JOIN ☕"
    assert "J’aimerais participer – merci" in mail.body


def test_an_encoded_comma_in_a_name_and_raw_utf8_headers_keep_the_address() -> None:
    encoded = parse(b"From: =?utf-8?q?Jones=2C_Sam?= <Sam@Leeds.gov.uk>\r\nSubject: MET\r\n\r\nthanks\r\n")
    assert (encoded.sender_name, encoded.sender) == ("Jones, Sam", "sam@leeds.gov.uk")
    raw = parse("From: Zoë Brontë <zoe@example.org>\r\nSubject: Réunion: MET\r\n\r\nok\r\n".encode())
    assert (raw.sender_name, raw.sender, raw.subject) == ("Zoë Brontë", "zoe@example.org", "Réunion: MET")


def test_forty_thousand_header_names_do_not_stall_the_run() -> None:
    """A safety bound, not a benchmark: reading headers name by name made this one 0.5 MB message
    take 25 s (the time grew with the square of the count), holding the run lock all the while."""
    names = b"".join(b"X-H%d: v\r\n" % i for i in range(40_000))
    raw = b"From: Ann <ann@a.org>\r\nSubject: JOIN\r\nMessage-ID: <1@a.org>\r\n" + names + b"\r\nhello\r\n"
    started = time.perf_counter()
    mail = parse(raw)
    assert time.perf_counter() - started < 5
    assert (mail.sender, mail.subject, len(mail.headers)) == ("ann@a.org", "JOIN", 40_003)


def test_a_multipart_without_a_boundary_is_malformed_not_guessed_at() -> None:
    raw = (b"From: a@b.org\r\nSubject: hi\r\nContent-Type: multipart/mixed\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\n\r\nLEAVE\r\n--x--\r\n")
    mail = parse(raw)
    assert "multipart without a boundary" in mail.malformed and "LEAVE" not in mail.body


def test_missing_message_id_falls_back_to_a_content_hash() -> None:
    raw = b"From: a@b.org\r\nSubject: JOIN\r\n\r\nhi\r\n"
    assert parse(raw).key.startswith("sha256:") and parse(raw).key == parse(raw).key


@pytest.mark.parametrize("headers, subject, sender", [
    ({"Auto-Submitted": "auto-replied"}, "Re: hi", "a@b.org"),
    ({"X-Autoreply": "yes"}, "Re: hi", "a@b.org"),
    ({"Precedence": "bulk"}, "Re: hi", "a@b.org"),
    ({"List-Id": "<x.lists.example>"}, "Re: hi", "a@b.org"),
    ({}, "Automatic reply: Welcome", "a@b.org"),
    ({}, "Abwesenheitsnotiz: Welcome", "a@b.org"),
    ({}, "Réponse automatique : Bienvenue", "a@b.org"),
    ({}, "Delivery Status Notification (Failure)", "a@b.org"),
    ({}, "Abwesend: Willkommen", "a@b.org"), ({}, "Absent du bureau : Bienvenue", "a@b.org"),
    ({}, "Ausente: Bienvenido", "a@b.org"), ({}, "Fuori sede: Benvenuto", "a@b.org"),
    ({}, "[Auto-Reply] Welcome", "a@b.org"), ({}, "Auto: Welcome", "a@b.org"),
    ({}, "JOIN", "MAILER-DAEMON@mx.example.net"),
    ({"X-Unmentoring-Loop": "example.org"}, "JOIN", "a@b.org"),
])
def test_robots_are_recognised(headers: dict[str, str], subject: str, sender: str) -> None:
    assert robot_reason(parse(incoming(sender, subject, "x", headers=headers)), "example.org")


def test_exchange_suppress_header_alone_is_a_person() -> None:
    raw = incoming("a@b.org", "JOIN", headers={"X-Auto-Response-Suppress": "All", "Auto-Submitted": "no"})
    assert robot_reason(parse(raw), "example.org") is None


def test_tokens_from_sub_address_and_our_message_ids_only() -> None:
    raw = incoming("a@b.org", "Re: x", "CONFIRM", to="Coffee <COFFEE+ABC234@example.org>",
                   in_reply_to="<confirm.xyz567.0a1b@example.org> <confirm.evil999.0a1b@elsewhere.net>")
    assert candidate_tokens(parse(raw), "coffee", "example.org") == ["abc234", "xyz567"]


def test_garbage_is_unreadable_or_empty_never_a_crash() -> None:
    for raw in (b"", b"\xff\xfe\x00garbage", b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\n"):
        try:
            mail = parse(raw)
        except Unreadable:
            continue
        assert find_command(mail.subject, mail.body) is None


@pytest.mark.parametrize("body, expected", [
    ("Yes, we met!", "MET"), ("We had a great chat", "MET"), ("met", "MET"), ("MET.", "MET"),
    ("Yes - MET, lovely chat", "MET"), ("We finally met up on Friday", "MET"),
    ("Sadly we didn't manage to meet", "NOT MET"), ("not met - we were both on leave", "NOT MET"),
    ("No, we couldn't find a time", "NOT MET"), ("unsubscribe", "LEAVE"), ("Stop", "LEAVE"),
    ("Shall we meet on Tuesday?", None), ("Great to hear from you!", None), ("Stopping by to say hi", None),
    ("Hi, count me in!", "JOIN"), ("Please pause until March", "PAUSE"),
])
def test_what_people_really_write(body: str, expected: str | None) -> None:
    found = find_command("Re: Coffee Roulette: meet Sam and Kim", body)
    assert (found.name if found else None) == expected


GROUP_THREAD = "Re: Coffee Roulette: meet Sam and Kim"


@pytest.mark.parametrize("body, expected", [
    ("Leave it with me, I'll send an invite for Thursday", None), ("Stop by my desk when you're in", None),
    ("Skip the formalities, call me Jo", None), ("Resume attached", None), ("Share the agenda please?", None),
    ("Join us for lunch?", None), ("Help me pick a time", None), ("Forget it, we met anyway", "MET"),
    ("Stop, I think we've got our wires crossed", None), ("Kim - please stop sending me invites, I'll add it", None),
    ("Could you take me off the email chain and just text me?", None), ("Let's have no more emails and just call", None),
    ("Hi Kim, I think we've met before, at LocalGovCamp? Does Thursday work?", None), ("Met you at the away day!", None),
    ("I haven't talked to anyone in service design before", None), ("I've never met anyone from NHS England", None),
    ("Afraid not, I'm in Leeds on Tuesday", None), ("Not yet, but I'll send an invite today", None),
    ("Unfortunately not, I'm on leave that week. How about the 20th?", None), ("No, we can do Wednesday instead", None),
    ("I'd like to take a break at 11 if we do a long session", None), ("Leave me out of this one, you two pick!", None),
    ("Remove me please from the invite, I'll dial in", None), ("Leave - thanks for everything", "LEAVE"),
    ("Stop.", "LEAVE"), ("Leave please", "LEAVE"), ("STOP, thanks", "LEAVE"), ("Hi all,\nLEAVE the scheme for now", "LEAVE"),
    ("Unsubscribe me from the list please", "LEAVE"), ("Skip this month please", "SKIP"),
    ("Skip December please - it's madness here", "SKIP"), ("PAUSE for 2 months", "PAUSE"), ("Pause for thought", None),
    ("share https://example.org/notes", "SHARE"), ("Share: we swapped notes on housing", "SHARE"),
    ("SHARE we swapped notes on housing", "SHARE"), ("Met on Tuesday, really useful", "MET"),
    ("Met with Sam on Teams, really useful", "MET"), ("Hi all\nMet on Friday\nThanks", "MET"),
    ("Met and had a great chat", "MET"), ("Yes we met, I didn't expect to talk for two hours!", "MET"),
    ("Met Priya at a workshop last year!", None), ("I think we've met before - at the Leeds offsite?", None),
    ("I haven't managed to book a room yet but Thursday works", None), ("I couldn't connect to Teams, sorry", None),
    ("Pause for now please", "PAUSE"), ("Pause me for a few months", "PAUSE"), ("Skip for March", "SKIP"),
    ("Skip this month as I'm on leave", "SKIP"), ("Resume as I'm back from leave", "RESUME"),
    ("Good morning, not met yet sorry - diaries!", "NOT MET"), ("Morning all! MET", "MET"),
])
def test_in_a_groups_thread_only_clear_commands_count(body: str, expected: str | None) -> None:
    """Replies to all in a group's thread are conversation: a command word opening a sentence, or
    an answer to a question about dates, must not act; MET and NOT MET, which we ask for, still do."""
    found = find_command(GROUP_THREAD, body, chat=True)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize("body, expected", [
    ("Leave - moving departments", "LEAVE"), ("Leave, I'm moving to DWP", "LEAVE"), ("Leave pls", "LEAVE"),
    ("Unsubscribe as I've left HMRC", "LEAVE"), ("Stop sending me these", "LEAVE"), ("skip pls", "SKIP"),
    ("Skip April and May", "SKIP"), ("Skip as I'm on leave", "SKIP"), ("Resume as I'm back from leave", "RESUME"),
    ("Join pls", "JOIN"), ("Forget everything", "FORGET"), ("Share we swapped tips on Excel", "SHARE"),
    ("I'd like to pause", "PAUSE"), ("MY DATA", "MYDATA"), ("stop emailing me please", "LEAVE"),
    ("Please remove me", "LEAVE"), ("Please take me off your list", "LEAVE"), ("I'd like to unsubscribe", "LEAVE"),
    ("I'd like to leave early on Thursday", None), ("leave me out this month", "SKIP"), ("Can I sit this one out?", "SKIP"),
    ("Haven't met yet", "NOT MET"), ("Still haven't managed to meet", "NOT MET"),
    ("Didn't meet - Sam never replied", "NOT MET"), ("Couldn't find a time that worked", "NOT MET"),
    ("I've never met anyone from NHS England", None), ("Leave me in please!", None), ("Leave it for now, I'll stay in", None),
    ("Please stop emailing my old address and use sam@dwp.gov.uk", None), ("Unsub", "LEAVE"),
    ("Leave as I'm retiring", "LEAVE"), ("We've met already, thanks", "MET"), ("We managed to meet yesterday", "MET"),
    ("Finally met today!", "MET"), ("Had a lovely coffee with Sam", "MET"), ("Never heard back from Alex", "NOT MET"),
])
def test_sent_to_us_a_keyword_or_request_is_a_command(body: str, expected: str | None) -> None:
    """To our address or a personal email of ours, words are meant for us: terse is fine."""
    found = find_command("Re: Welcome to Coffee Roulette", body)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize("body, expected", [
    ("Yes we met, I didn't expect to talk for two hours!", "MET"),
    ("We met - haven't stopped talking about it", "MET"),
    ("We met on Tuesday - couldn't have asked for a better chat", "MET"),
    ("We've met!", "MET"), ("we've had a great chat", "MET"), ("We did meet, thanks", "MET"), ("I've met her", "MET"),
    ("We didn't meet, we had a call planned", "NOT MET"), ("We haven't met yet", "NOT MET"),
    ("Unfortunately we weren't able to meet", "NOT MET"), ("We've not managed to catch up", "NOT MET"),
    ("Sorry, we didn't get to meet", "NOT MET"),
])
def test_the_first_outcome_phrase_decides(body: str, expected: str) -> None:
    for chat in (False, True):
        found = find_command(GROUP_THREAD, body, chat=chat)
        assert found is not None and found.name == expected, chat


def test_answers_to_our_own_questions() -> None:
    """"Yes" to "Please confirm", "until March" to "How long would you like to pause?"; FORGET's
    confirmation still wants the word itself."""
    assert find_command("Re: Please confirm you'd like to join", "Yes please", frozenset({"confirm"})).name == "CONFIRM"
    assert find_command("Re: Please confirm: LEAVE", "Confirmed", frozenset({"confirm_command"})).name == "CONFIRM"
    assert find_command("Re: Please confirm", "Yes but not yet", frozenset({"confirm"})) is None
    assert find_command("Re: Are you sure?", "Yes please", frozenset({"forget_confirm"})) is None
    assert find_command("Re: How long?", "Until March please", frozenset({"pause_unclear"})) == Command("PAUSE", "Until March")
    assert find_command("Re: Welcome", "Until March please") is None


def test_pause_me_please_is_an_open_pause_and_list_tags_are_not_words() -> None:
    assert find_command("Re: x", "Please pause me") == Command("PAUSE", "", "")
    assert find_command("Re: x", "Pause me for 2 months please") == Command("PAUSE", "for 2 months", "")
    assert find_command("Re: [coffee] MET", "") == Command("MET", "", "")


def test_yes_and_no_count_only_as_answers_to_did_you_meet() -> None:
    assert find_command("Re: x", "yes") is None
    assert find_command("Re: x", "Yes", frozenset({"checkin"})) == Command("MET", "", "")
    for said, outcome in [("Yes thanks", "MET"), ("Yes all good", "MET"), ("Yes had a great call with Sam", "MET"),
                          ("Thanks, yes!", "MET"), ("Hi\n\nYes we did, really useful", "MET"), ("We did indeed", "MET"),
                          ("Yup!", "MET"), ("no, she was off sick", "NOT MET"), ("No sorry, diaries clashed", "NOT MET"),
                          ("No one replied to me", "NOT MET"), ("Afraid not", "NOT MET"), ("Sadly no", "NOT MET"),
                          ("Not this month", "NOT MET"), ("No worries, see you", None),
                          ("Yes, we're meeting on Friday", None), ("Yes - booked in for the 14th", None)]:
        found = find_command("Re: Did you meet?", said, frozenset({"checkin"}))
        assert (found.name if found else None) == outcome, said
    assert find_command("Re: x", "Yes, Thursday works", frozenset({"nudge"})) is None, "the nudge asks if they found a time"


@pytest.mark.parametrize("args, expected", [
    ("", PauseRequest()), ("3", PauseRequest(rounds=3)), ("for 2 rounds", PauseRequest(rounds=2)),
    ("until 1 Feb", PauseRequest(until=date(2027, 2, 1))), ("until March 3rd", PauseRequest(until=date(2027, 3, 3))),
    ("until 1/2/2027", PauseRequest(until=date(2027, 2, 1))), ("until 1 Nov", PauseRequest(until=date(2027, 11, 1))),
    ("until yesterday", None), ("a while", None), ("until March", PauseRequest(until=date(2027, 3, 1))),
    ("until the start of January", PauseRequest(until=date(2027, 1, 1))), ("until Monday", None),
])
def test_pause_wording(args: str, expected: PauseRequest | None) -> None:
    assert parse_pause(args, date(2026, 11, 23)) == expected


@pytest.mark.parametrize("reason, group", [
    ("we were both on leave", "away"), ("she never replied", "no reply"), ("postponed to next month", "rescheduled"),
    ("the building flooded", "other"), ("", ""), ("they didn't get back to me", "no reply"),
    ("out of office all month", "away"), ("we've booked a time for next Tuesday", "rescheduled"),
    ("she was on leave", "away"), ("off sick all week", "away"), ("Kim was away", "away"), ("on holiday", "away"),
    ("too busy with budget season", "busy"), ("our diaries clashed", "busy"), ("swamped at work", "busy"),
])
def test_reasons_are_grouped(reason: str, group: str) -> None:
    assert reason_group(reason) == group


def test_authentication_counts_only_from_the_trusted_server_for_the_sender_domain() -> None:
    header = "mx.google.com; dkim=pass header.d=leeds.gov.uk; dmarc=pass header.from=leeds.gov.uk"
    assert authenticated([header], "sam@leeds.gov.uk", "mx.google.com")
    assert not authenticated([header], "sam@evil.example", "mx.google.com")
    assert not authenticated([header], "sam@leeds.gov.uk", "")
    assert not authenticated([header.replace("mx.google.com", "mx.evil.example")], "sam@leeds.gov.uk", "mx.google.com")
    assert not authenticated([header.replace("=pass", "=fail")], "sam@leeds.gov.uk", "mx.google.com")
