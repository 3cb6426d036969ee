"""The organiser's digest: after a round closes, one short email with how it went and the report attached.

It is queued by `tick` in the run that closes the round (rounds close when the
next one opens). The outbox's dedupe key ``digest:<round id>`` makes it once per
round however often `tick` runs or is killed; only a round closed in the last
:data:`WINDOW` gets one, so turning the setting on later does not send a backlog.
Its token makes a reply to it the organiser's own (inbound.organiser trusts it).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from inbound.reasons import label
from inbound.tokens import new_token
from mailer.compose import Attachment
from mailer.outbox import enqueue
from models import OutboundMessage, Round

if TYPE_CHECKING:
    from report.data import History
    from report.build import Built

WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Movement:
    """How many joined (confirmed their address) and left while the round ran."""

    joined: int
    left: int


def due_round(session: Session, now: datetime) -> Round | None:
    """The latest closed round, if it closed recently and has had no digest yet."""
    rnd = session.scalars(select(Round).where(Round.closed_at.is_not(None))
                          .order_by(Round.closed_at.desc(), Round.number.desc()).limit(1)).first()
    if rnd is None or rnd.closed_at is None or rnd.closed_at < now - WINDOW:
        return None
    queued = session.scalar(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key(rnd)))
    return None if queued else rnd


def dedupe_key(rnd: Round) -> str:
    return f"digest:{rnd.id}"


def movement(history: History, start: datetime, end: datetime) -> Movement:
    joined = sum(1 for p in history.people.values() if p.confirmed and start <= p.confirmed < end)
    left = sum(1 for c in history.changes if c.new == "left" and start <= c.at < end)
    return Movement(joined, left)


def digest_context(built: Built, number: int) -> dict[str, Any]:
    """What the template shows for round ``number``, from the report just built."""
    from report.evidence import booking_lines, evidence

    assert built.history is not None
    history = built.history
    figures = {f.number: f for f in built.figures}
    closed = figures[number]
    info = next(r for r in history.rounds if r.number == number)
    following = figures.get(number + 1)
    status = [p.status for p in history.people.values()]
    why = built.reasons.get(number, Counter())
    return {
        "round": closed, "rate": _percent(closed.meet_rate), "next": following,
        "reasons": [(label(group), count) for group, count in why.most_common()],
        "moved": movement(history, info.opened_at, info.closed_at or info.opened_at),
        "active": status.count("active"), "paused": status.count("paused"),
        "connected": _percent(closed.largest_share),
        "booking": booking_lines(evidence(history)),
    }


def _percent(share: float | None) -> str:
    return "" if share is None else f"{round(share * 100)}%"


def queue_digest(session: Session, settings: Settings, now: datetime) -> str | None:
    """Queue the digest for a round that has just closed, when the setting is on; what was done."""
    if not settings.service.digest:
        return None
    rnd = due_round(session, now)
    if rnd is None:
        return None
    name = f"network-report-round-{rnd.number}.html"
    built, attachment = report_attachment(session, settings, now, name)
    enqueue(session, settings, template="organiser/digest", to=settings.service.organiser, now=now,
            context={**digest_context(built, rnd.number), "attachment": name}, token=new_token(),
            dedupe_key=dedupe_key(rnd), attachments=[attachment])
    return f"round {rnd.number}: digest queued for {settings.service.organiser}"


def report_attachment(session: Session, settings: Settings, now: datetime, name: str) -> tuple[Built, Attachment]:
    """The network report, built now, as the page the organiser's emails carry (the digest, REPORT).

    The page travels alone, so it is built without links to its open/ and export/ files: it names them
    and says how to get them, rather than carrying links that lead nowhere.
    """
    from report.build import Options, build_report  # networkx and the drawing code: only when a page is due

    options = Options(title=settings.service.name, tz=settings.tz, links=False)   # its files stay behind
    with TemporaryDirectory(prefix="unmentoring-digest-") as folder:
        built = build_report(session, Path(folder), options, now)
        page = built.index.read_bytes()
    return built, Attachment(name, "text/html", page)
