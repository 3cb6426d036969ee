"""Retention: old message contents go, the statistics and duplicate detection stay (both databases)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import InboundMessage, OutboundMessage, Outcome, Participant, Share, Status
from tests.app import TEST_START, Service
from tests.mail import incoming, reply_to
from tests.test_privacy import KIM, SAM, add, quarantined, stored_text
from tests.test_rounds import at, run
from tick import tick


def test_old_contents_are_purged_but_duplicates_are_still_recognised(service: Service) -> None:
    raw = incoming("ann@a.org", "JOIN", message_id="<old@a.org>")
    service.imap.deliver(raw)
    service.tick()
    later = TEST_START + timedelta(days=400)
    report = tick(service.engine, service.settings, now=lambda: later)
    assert report.purged == 3, "its record, its answer, and Ann, who never confirmed"
    with service.session() as s:
        record = s.scalar(select(InboundMessage))
        sent = s.scalar(select(OutboundMessage))
        assert (record.sender, record.subject, record.action) == ("", "", "join-requested")
        assert (sent.raw, sent.recipients, sent.kind, sent.status) == (b"", "", "confirm", "sent")
    service.imap.deliver(raw)
    again = tick(service.engine, service.settings, now=lambda: later)
    assert again.poll.duplicates == 1 and len(service.smtp.messages) == 1


def test_recent_contents_are_kept(service: Service) -> None:
    service.imap.deliver(incoming("bea@b.org", "JOIN"))
    service.tick()
    assert tick(service.engine, service.settings, now=lambda: TEST_START + timedelta(days=29)).purged == 0
    with service.session() as s:
        assert s.scalar(select(InboundMessage)).sender == "bea@b.org"


def test_old_error_texts_reasons_and_shares_go_too(service: Service) -> None:
    add(service, (SAM, "Sam Jones"), (KIM, "Kim Lee"))
    run(service, at("2026-12-01T10:00"))
    intro = service.smtp.wait_for(1)[0].message
    service.imap.deliver(reply_to(intro, f"Sam Jones <{SAM}>", "NOT MET\nI was on leave all month"))
    group = intro["Reply-To"].addresses[0].addr_spec
    service.imap.deliver(incoming(SAM, "SHARE", "Notes: https://blog.example/sam", to=group))
    service.imap.deliver(quarantined(KIM))
    service.smtp.fail_next = [(550, f"5.1.1 <{SAM}>: mailbox unavailable")]
    run(service, at("2026-12-02T10:00"))
    with service.session() as s:
        assert s.scalar(select(Share)) is not None and s.scalar(select(Outcome.reason))
        assert s.scalar(select(OutboundMessage.last_error).where(OutboundMessage.status == "failed"))
    run(service, at("2027-11-20T10:00"))
    with service.session() as s:
        assert s.scalar(select(Share)) is not None, "within a year"
    run(service, at("2027-12-03T10:00"))
    with service.session() as s:
        assert s.scalar(select(Share)) is None
        assert [(o.met, o.reason, o.reason_group) for o in s.scalars(select(Outcome))] == [(False, "", "away")]
        old = at("2026-12-03T00:00")
        assert {r.reason for r in s.scalars(select(InboundMessage).where(InboundMessage.received_at < old))} == {""}
        sent = s.scalars(select(OutboundMessage).where(OutboundMessage.created_at < old))
        assert {r.last_error for r in sent} == {""}


def test_people_who_never_confirmed_are_erased(service: Service) -> None:
    service.set("service", "unconfirmed_days", 10)
    for sender in ("ann@a.org", "bea@b.org", "cat@c.org"):
        service.imap.deliver(incoming(sender, "JOIN"))
    run(service, at("2026-11-21T10:00"))
    bea = next(c.message for c in service.smtp.messages if c.rcpt_tos == ["bea@b.org"])
    service.imap.deliver(reply_to(bea, "bea@b.org", "CONFIRM"))
    run(service, at("2026-11-22T10:00"))
    service.imap.deliver(incoming("cat@c.org", "JOIN again please", message_id="<again@c.org>"))
    run(service, at("2026-11-28T10:00"))
    run(service, at("2026-12-01T09:00"))
    with service.session() as s:
        assert len(s.scalars(select(Participant)).all()) == 3, "ten days have not passed"
    run(service, at("2026-12-01T11:00"))
    with service.session() as s:
        people = {p.email: p.status for p in s.scalars(select(Participant))}
        assert people == {"bea@b.org": Status.ACTIVE, "cat@c.org": Status.PENDING}, "Cat asked again on the 28th"
        assert "ann@a.org" not in stored_text(s)


def test_a_short_retention_does_not_hide_a_second_join(service: Service) -> None:
    """Expired confirmation requests go with the retention period, but a pending person's date their last JOIN."""
    service.set("service", "unconfirmed_days", 10)
    service.set("service", "retention_days", 1)
    service.imap.deliver(incoming("cat@c.org", "JOIN"))
    run(service, at("2026-11-21T10:00"))
    service.imap.deliver(incoming("cat@c.org", "JOIN again please", message_id="<again@c.org>"))
    run(service, at("2026-11-28T10:00"))
    run(service, at("2026-12-07T10:00"))
    with service.session() as s:
        assert s.scalars(select(Participant.email)).all() == ["cat@c.org"]
    run(service, at("2026-12-08T11:00"))
    with service.session() as s:
        assert s.scalars(select(Participant.email)).all() == []
