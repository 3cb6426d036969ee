"""Forget old message contents while keeping what deduplication, threading and the statistics need.

Inbound mail bodies are never stored. After `service.retention_days`, an inbound
record loses its sender and subject, and a sent or failed email loses its stored
bytes, recipients (and who took or refused it) and subject. Message-IDs, actions, dates and participant links
stay: they are what recognises a duplicate, threads a reminder, and counts a round.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from models.mail import InboundMessage, OutboundMessage, OutStatus


def purge(session: Session, now: datetime, days: int) -> int:
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    inbound = session.execute(
        update(InboundMessage).where(InboundMessage.received_at < cutoff, InboundMessage.sender != "")
        .values(sender="", subject="")
    ).rowcount
    outbound = session.execute(
        update(OutboundMessage).where(OutboundMessage.created_at < cutoff, OutboundMessage.recipients != "",
                                      OutboundMessage.status.in_([OutStatus.SENT, OutStatus.FAILED]))
        .values(raw=b"", recipients="", subject="", accepted="", rejected="")
    ).rowcount
    return (inbound or 0) + (outbound or 0)
