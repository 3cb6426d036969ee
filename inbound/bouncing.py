"""Act on a bounce: score hard failures per participant, suspend at the limit, tell the organiser.

A bounce counts when it names who failed through our VERP address, or quotes an email of ours
that went to the failing address.

The score counts days with a hard bounce, not reports: one failure often comes back from
several servers, or for two emails sent the same day. It starts again from one when the
last counted bounce is older than `service.bounce_stale_days`, so a mailbox that failed
once a year is never suspended, while a dead one (an introduction, a nudge and a
check-in, all refused) is suspended within a round.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from inbound.bounces import read_bounce
from inbound.parse import Parsed, message_ids
from inbound.tokens import new_token, ours, sub_addresses
from mailer.outbox import enqueue
from meetings.booking import drop_member
from models import AuditEvent, InboundMessage, OutboundMessage, Participant, Status
from wording import plural

VERP_PREFIX = "b-"


def failing_participants(session: Session, settings: Settings, mail: Parsed, raw: bytes) -> tuple[list[Participant], str]:
    """Who bounced for good: named by our VERP address when we used one, else read from the report,
    counting only the addresses that a quoted email of ours went to."""
    tags = sub_addresses(mail, settings.service.local_part, settings.service.domain)
    verp = [t[len(VERP_PREFIX):] for t in tags if t.startswith(VERP_PREFIX)]
    bounce = read_bounce(raw)
    if verp:
        found = list(session.scalars(select(Participant).where(Participant.reply_token.in_(verp))))
        if not bounce.permanent and (bounce.temporary or bounce.policy):
            found = []
    else:
        sent_to = _recipients_of_quoted(session, raw, settings.service.domain)
        failed = [address for address in bounce.permanent if address in sent_to]
        if not failed and bounce.permanent:
            return [], f"not counted: it quotes no email of ours to {', '.join(bounce.permanent)}"
        found = list(session.scalars(select(Participant).where(Participant.email.in_(failed))))
    detail = f"permanent {bounce.permanent}, temporary {bounce.temporary}, policy {bounce.policy}"
    return found, detail


def _recipients_of_quoted(session: Session, raw: bytes, domain: str) -> set[str]:
    """Who the emails of ours that a report quotes (by Message-ID) went to. Anyone can write a report
    naming a participant's address, and three on three days would suspend them: a report counts for
    an address only if it quotes an email we really sent there."""
    quoted = message_ids(raw.decode("latin-1"))
    ids = {message_id.lower() for message_id in quoted if ours(message_id, domain)}  # ours are all lower case
    if not ids:
        return set()
    rows = session.scalars(select(OutboundMessage.recipients).where(OutboundMessage.message_id.in_(ids)))
    return {address for row in rows for address in row.split("\n")}


def handle_bounce(session: Session, settings: Settings, mail: Parsed, raw: bytes, record: InboundMessage,
                  now: datetime) -> tuple[str, str]:
    people, detail = failing_participants(session, settings, mail, raw)
    counted = 0
    for person in people:
        record.participant_id = person.id
        counted += count_bounce(person, now, timedelta(days=settings.service.bounce_stale_days))
        if person.bounce_score >= settings.service.bounce_limit and person.status in (Status.ACTIVE, Status.PAUSED):
            _suspend(session, settings, person, record, now)
    return ("bounce", f"counted for {counted} of {plural(len(people), 'participant')}; {detail}")


def count_bounce(person: Participant, now: datetime, stale_after: timedelta) -> bool:
    """Add today's hard bounce to the score; False when a bounce was already counted today."""
    last = person.last_bounce_at
    if last is not None and last.date() == now.date() and person.bounce_score:
        return False
    fresh = last is None or now - last <= stale_after
    person.bounce_score = person.bounce_score + 1 if fresh else 1
    person.last_bounce_at = now
    return True


def _suspend(session: Session, settings: Settings, person: Participant, record: InboundMessage, now: datetime) -> None:
    old = person.status
    drop_member(session, settings, person, now)
    person.status = Status.SUSPENDED
    session.add(AuditEvent(at=now, participant_id=person.id, action="suspended", old_status=old,
                           new_status=Status.SUSPENDED, source="bounces", inbound_id=record.id,
                           detail=f"{plural(person.bounce_score, 'hard bounce')}"))
    enqueue(session, settings, template="organiser/bounce_notice", to=settings.service.organiser, now=now,
            context={"person": person, "bounces": person.bounce_score}, token=new_token(),
            dedupe_key=f"bounce_notice:{person.id}:{person.bounce_score}")
