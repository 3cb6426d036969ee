"""Retention: old message contents go, the statistics and duplicate detection stay (both databases)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import InboundMessage, OutboundMessage
from tests.app import TEST_START, Service
from tests.mail import incoming
from tick import tick


def test_old_contents_are_purged_but_duplicates_are_still_recognised(service: Service) -> None:
    raw = incoming("ann@a.org", "JOIN", message_id="<old@a.org>")
    service.imap.deliver(raw)
    service.tick()
    later = TEST_START + timedelta(days=400)
    report = tick(service.engine, service.settings, now=lambda: later)
    assert report.purged == 2
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
    assert tick(service.engine, service.settings, now=lambda: TEST_START + timedelta(days=30)).purged == 0
    with service.session() as s:
        assert s.scalar(select(InboundMessage)).sender == "bea@b.org"
