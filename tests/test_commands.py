"""Every participant command through real IMAP/SMTP, including senders we cannot trust (both databases)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from models import InboundMessage, Match, OutboundMessage, Outcome, Participant, Round, Share, Status
from tests.app import Service
from tests.mail import incoming, reply_to

SAM = "sam@leeds.gov.uk"
PERSONAL = "coffee+samtoken1@example.org"
TRUSTED_AR = "mx.example.org; dkim=pass header.d=leeds.gov.uk header.s=sel; dmarc=pass header.from=leeds.gov.uk"


def add_sam(service: Service, status: str = Status.ACTIVE) -> None:
    with service.session() as s, s.begin():
        s.add(Participant(email=SAM, name="Sam", status=status, reply_token="samtoken1",
                          confirmed_at=datetime(2026, 11, 2, tzinfo=timezone.utc)))


def sam(service: Service) -> Participant:
    with service.session() as s:
        return s.scalar(select(Participant).where(Participant.id == 1)) or s.scalar(select(Participant))


def send(service: Service, subject: str, body: str = "", to: str = PERSONAL, **kw: object) -> str:
    service.imap.deliver(incoming(f"Sam <{SAM}>", subject, body, to=to, **kw))  # type: ignore[arg-type]
    return service.tick().output


def last_body(service: Service) -> str:
    return service.smtp.messages[-1].message.get_body(("plain",)).get_content()


def test_pause_forms_and_resume(service: Service) -> None:
    add_sam(service)
    send(service, "Re: Welcome", "PAUSE until 1 Feb\n\n> old text")
    person = sam(service)
    assert person.status == Status.PAUSED and person.paused_until is not None
    assert person.paused_until.date().isoformat() == "2027-02-01" and "until 1 February 2027" in last_body(service)
    send(service, "RESUME")
    assert sam(service).status == Status.ACTIVE and "Welcome back" in service.smtp.messages[-1].message["Subject"]
    send(service, "PAUSE 2")
    assert sam(service).paused_until is not None and sam(service).paused_until.date().isoformat() == "2027-02-01", "misses December and January"
    send(service, "Re: hi", "pause whenever")
    assert "couldn't tell how long" in last_body(service)


def test_skip_then_sit_out_with_a_notice(service: Service) -> None:
    add_sam(service)
    with service.session() as s, s.begin():
        s.add(Participant(email="kim@nhs.net", status=Status.ACTIVE, reply_token="kimtoken"))
    send(service, "SKIP")
    assert sam(service).skip_next and "sit out the next round" in last_body(service)
    service.cli("round", "open")
    with service.session() as s:
        assert s.scalar(select(Round)).sit_outs[0].reason == "skip"
    assert not sam(service).skip_next, "SKIP covers one round only"


def test_leave_by_the_unsubscribe_link_is_immediate(service: Service) -> None:
    add_sam(service)
    send(service, "LEAVE", to=PERSONAL)
    assert sam(service).status == Status.LEFT and "You've left" in service.smtp.messages[-1].message["Subject"]


def test_a_command_without_our_token_is_confirmed_first(service: Service) -> None:
    add_sam(service)
    send(service, "STOP", to="coffee@example.org")
    assert sam(service).status == Status.ACTIVE
    request = service.smtp.messages[-1].message
    assert request["Subject"] == "Please confirm: LEAVE"
    token_address = request["Reply-To"].addresses[0].addr_spec
    send(service, "Re: Please confirm: LEAVE", "CONFIRM", to=token_address)
    assert sam(service).status == Status.LEFT


def test_authentication_results_count_only_from_our_server(service: Service) -> None:
    add_sam(service)
    send(service, "PAUSE", to="coffee@example.org", headers={"Authentication-Results": TRUSTED_AR})
    assert sam(service).status == Status.ACTIVE, "no trusted server configured yet"
    service.set("service", "trusted_authserv_id", "mx.example.org")
    send(service, "PAUSE", to="coffee@example.org", headers={"Authentication-Results": TRUSTED_AR},
         message_id="<p2@leeds.gov.uk>")
    assert sam(service).status == Status.PAUSED
    forged = TRUSTED_AR.replace("mx.example.org", "mx.attacker.example")
    send(service, "RESUME", to="coffee@example.org", headers={"Authentication-Results": forged})
    assert sam(service).status == Status.PAUSED


def test_profile_update_and_view(service: Service) -> None:
    add_sam(service)
    send(service, "Re: Welcome", "PROFILE\nName: Sam Jones\nOrganisation: Leeds City Council\nRole: Analyst\n"
                                 "Colour: blue\n\nOn Monday Coffee wrote:\n> Role: quoted")
    person = sam(service)
    assert (person.name, person.organisation, person.role) == ("Sam Jones", "Leeds City Council", "Analyst")
    assert "updated your name, organisation, role" in last_body(service)
    send(service, "profile", to="coffee@example.org")
    assert "Role: Analyst" in last_body(service)


def test_share_is_kept_for_the_round(service: Service) -> None:
    add_sam(service)
    with service.session() as s, s.begin():
        s.add(Participant(email="kim@nhs.net", status=Status.ACTIVE, reply_token="kimtoken"))
    service.cli("round", "open")
    send(service, "SHARE", "We found a shared problem with hospital discharge data: https://example.org/notes")
    with service.session() as s:
        shared = s.scalar(select(Share))
        assert shared is not None and "discharge data" in shared.text
        assert shared.round_id == s.scalar(select(Round.id))


def sam_and_kim_introduced(service: Service) -> str:
    """Sam and Kim in a round of their own; their group's token."""
    add_sam(service)
    with service.session() as s, s.begin():
        s.add(Participant(email="kim@nhs.net", status=Status.ACTIVE, reply_token="kimtoken"))
    service.cli("round", "open")
    with service.session() as s:
        token = s.scalar(select(Match.token))
    assert token is not None
    return token


def test_natural_outcomes_in_the_group_thread(service: Service) -> None:
    token = sam_and_kim_introduced(service)
    group = f"coffee+{token}@example.org, kim@nhs.net"
    send(service, "Re: meet Kim", "Does Thursday work?", to=group)
    send(service, "Re: meet Kim", "Yes, we met! Thanks for the intro", to=group)
    with service.session() as s:
        assert [o.met for o in s.scalars(select(Outcome))] == [True]


def test_yes_answers_did_you_meet(service: Service) -> None:
    token = sam_and_kim_introduced(service)
    send(service, "Re: Did you meet? Sam and Kim", "yes", to=f"coffee+{token}@example.org",
         in_reply_to=f"<checkin.{token}.abc123@example.org>")
    with service.session() as s:
        assert [o.met for o in s.scalars(select(Outcome))] == [True]


def test_mydata_then_forget(service: Service) -> None:
    add_sam(service)
    send(service, "Re: x", "PROFILE\nRole: Analyst")
    send(service, "MYDATA", to="coffee@example.org")
    assert "Address: sam@leeds.gov.uk" in last_body(service) and "Role: Analyst" in last_body(service)
    send(service, "FORGET", to="coffee@example.org")
    assert sam(service).email == SAM, "nothing erased before the confirmation"
    request = service.smtp.messages[-1].message
    send(service, "Re: confirm", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec)
    assert service.smtp.messages[-1].message["Subject"] == "We've erased your details"
    with service.session() as s:
        person = s.scalar(select(Participant))
        assert person.email.endswith("@invalid") and person.role == "" and person.status == Status.LEFT
        rows = s.scalars(select(OutboundMessage)).all()
        assert all(SAM not in r.recipients and SAM.encode() not in r.raw for r in rows)
        assert all(m.sender != SAM for m in s.scalars(select(InboundMessage))), "not even the confirming email"


def test_conversation_in_the_group_thread_changes_nobody(service: Service) -> None:
    """The introduction asks people to reply to all; their sentences must not act as commands."""
    token = sam_and_kim_introduced(service)
    group = f"coffee+{token}@example.org, kim@nhs.net"
    service.tick()
    sent = len(service.smtp.messages)
    for line in ("Leave it with me, I'll send an invite for Thursday", "Skip the formalities, call me Sam",
                 "Share the agenda please?", "Resume attached, as promised"):
        send(service, "Re: meet Kim", line, to=group)
    assert sam(service).status == Status.ACTIVE and not sam(service).skip_next
    assert len(service.smtp.messages) == sent, "conversation is not answered"
    with service.session() as s:
        assert s.scalar(select(Share)) is None
        assert {r.action for r in s.scalars(select(InboundMessage))} == {"conversation"}
    send(service, "Re: meet Kim", "Yes we met, I didn't expect to talk for two hours!", to=group)
    with service.session() as s:
        assert [o.met for o in s.scalars(select(Outcome))] == [True]


def test_a_not_met_reason_on_the_next_line_is_kept(service: Service) -> None:
    token = sam_and_kim_introduced(service)
    send(service, "Re: meet Kim", "NOT MET\nWe were both on leave for most of the month\n\nSam",
         to=f"coffee+{token}@example.org")
    send(service, "NOT MET", "Hi,\nKim was off sick, we'll try again", to=f"coffee+{token}@example.org",
         message_id="<second@leeds.gov.uk>")
    with service.session() as s:
        outcomes = s.scalars(select(Outcome).order_by(Outcome.id)).all()
    assert [(o.met, o.reason, o.reason_group) for o in outcomes] == [
        (False, "We were both on leave for most of the month", "away"),
        (False, "Kim was off sick, we'll try again", "away"),
    ]


@pytest.mark.parametrize("status", [Status.LEFT, Status.SUSPENDED])
def test_join_in_someone_elses_name_changes_nothing_until_confirmed(service: Service, status: str) -> None:
    add_sam(service, status=status)
    send(service, "JOIN", to="coffee@example.org")
    assert sam(service).status == status, "a JOIN anyone could have sent must not undo a LEAVE or a suspension"
    request = service.smtp.messages[-1].message
    assert request["Subject"].startswith("Please confirm")
    send(service, "Re: confirm", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec)
    assert sam(service).status == Status.ACTIVE


def test_a_group_member_cannot_act_in_another_members_name(service: Service) -> None:
    """Kim forges Sam's address in their group's thread; our server saw DMARC fail for leeds.gov.uk."""
    token = sam_and_kim_introduced(service)
    service.set("service", "trusted_authserv_id", "mx.example.org")
    failed = "mx.example.org; dkim=none; dmarc=fail (p=reject) header.from=leeds.gov.uk"
    send(service, "Re: meet Kim", "PAUSE", to=f"coffee+{token}@example.org", headers={"Authentication-Results": failed})
    assert sam(service).status == Status.ACTIVE
    assert service.smtp.messages[-1].message["Subject"] == "Please confirm: PAUSE"
    send(service, "Re: meet Kim", "PAUSE", to=f"coffee+{token}@example.org", message_id="<own@leeds.gov.uk>")
    assert sam(service).status == Status.PAUSED, "Sam's own PAUSE from the thread still works"


def test_leave_in_a_groups_thread_is_confirmed_first(service: Service) -> None:
    """Chat in the thread can read like a goodbye; the one irreversible-feeling step gets a check,
    even when our server vouches for the sender (DKIM and DMARC passed)."""
    token = sam_and_kim_introduced(service)
    service.set("service", "trusted_authserv_id", "mx.example.org")
    send(service, "Re: meet Kim", "Unsubscribe please, I'm moving on", to=f"coffee+{token}@example.org",
         headers={"Authentication-Results": TRUSTED_AR})
    assert sam(service).status == Status.ACTIVE
    request = service.smtp.messages[-1].message
    assert request["Subject"] == "Please confirm: LEAVE" and request["To"].addresses[0].addr_spec == SAM
    send(service, "Re: Please confirm: LEAVE", "CONFIRM", to=request["Reply-To"].addresses[0].addr_spec)
    assert sam(service).status == Status.LEFT


def test_leave_from_another_address_with_the_persons_own_token(service: Service) -> None:
    """Gmail's unsubscribe button, for someone whose work mail is forwarded there, writes from Gmail.
    The token's owner is asked at their own address; the confirmation's token, not the sender, decides."""
    add_sam(service)
    service.imap.deliver(incoming("Sam <sam.jones@gmail.com>", "unsubscribe", to=PERSONAL))
    service.tick()
    assert sam(service).status == Status.ACTIVE
    [request] = service.smtp.messages
    assert request.rcpt_tos == [SAM] and request.message["Subject"] == "Please confirm: LEAVE"
    service.imap.deliver(incoming("Sam <sam.jones@gmail.com>", "Re: Please confirm: LEAVE", "CONFIRM",
                                  to=request.message["Reply-To"].addresses[0].addr_spec))
    service.tick()
    assert sam(service).status == Status.LEFT
    assert service.smtp.messages[-1].rcpt_tos == [SAM] and "You've left" in service.smtp.messages[-1].message["Subject"]


def test_join_records_the_campaign_tag_but_not_a_forwarded_token(service: Service) -> None:
    """coffee+localgovcamp@ is a campaign; coffee+<Sam's token>@ is Sam's introduction forwarded to a colleague."""
    add_sam(service)
    service.imap.deliver(incoming("Ann <ann@camden.gov.uk>", "JOIN", to="coffee+LocalGovCamp@example.org"))
    service.imap.deliver(incoming("Bo <bo@leeds.gov.uk>", "Re: Coffee Roulette", "Count me in!", to=PERSONAL))
    service.tick()
    with service.session() as s:
        campaigns = {p.email: p.campaign for p in s.scalars(select(Participant))}
    assert campaigns == {SAM: "", "ann@camden.gov.uk": "localgovcamp", "bo@leeds.gov.uk": ""}
    assert "campaign: localgovcamp" in service.cli("participants", "show", "ann@camden.gov.uk").output


def test_yes_to_please_confirm_and_a_month_to_how_long(service: Service) -> None:
    """Answers to our own questions, in the words people use."""
    add_sam(service)
    send(service, "Re: Welcome", "PAUSE whenever")
    question = service.smtp.messages[-1].message
    assert "couldn't tell how long" in last_body(service)
    service.imap.deliver(reply_to(question, f"Sam <{SAM}>", "Until March please"))
    service.tick()
    person = sam(service)
    assert person.status == Status.PAUSED and person.paused_until is not None
    assert (person.paused_until.month, person.paused_until.day) == (3, 1)

    service.imap.deliver(incoming("Ann <ann@camden.gov.uk>", "JOIN"))
    service.tick()
    request = service.smtp.messages[-1].message
    assert request["Subject"].startswith("Please confirm")
    service.imap.deliver(reply_to(request, "Ann <ann@camden.gov.uk>", "Yes please"))
    service.tick()
    assert service.smtp.messages[-1].message["Subject"].startswith("Welcome")
    with service.session() as s:
        assert s.scalar(select(Participant.status).where(Participant.email == "ann@camden.gov.uk")) == Status.ACTIVE
