"""What came in (inbound messages, per-folder IMAP state) and what goes out (the outbox)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.bounded import Bounded


class Disposition(StrEnum):
    PROCESSED = "processed"
    QUARANTINED = "quarantined"


class InboundMessage(Base):
    """Every message we fetched, recorded before we act on it, kept even when handling fails."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(Bounded(998), unique=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[str] = mapped_column(Bounded(320), default="")
    subject: Mapped[str] = mapped_column(Bounded(2000, text=True), default="")
    size: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    disposition: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(Bounded(2000, text=True), default="")
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    # An answer was due but a daily cap held it back: mail that passed every robot check yet came
    # often enough to hit the cap is most likely a robot we do not recognise (shown in `status`).
    capped: Mapped[bool] = mapped_column(default=False)


class FolderState(Base):
    """The UIDVALIDITY and highest UID seen per IMAP folder."""

    __tablename__ = "folder_state"

    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)


class OutStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # an attempt is under way, or was cut short with nothing recorded after it
    SENT = "sent"
    FAILED = "failed"


class OutboundMessage(Base):
    """The outbox: written in the same transaction as the change that causes the email."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_try_at"),
        Index("ix_outbox_recipient_recent", "recipients", "created_at"),
        Index("ix_outbox_rate_key_recent", "rate_key", "created_at"),
        Index("ix_outbox_stranger_recent", "stranger", "created_at"),
        UniqueConstraint("dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not unique: a group's email is one copy per member, each with its own List-Unsubscribe.
    message_id: Mapped[str] = mapped_column(Bounded(400), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text)
    rate_key: Mapped[str] = mapped_column(String(320), default="")  # one recipient's address without its +tag
    stranger: Mapped[bool] = mapped_column(default=False)  # an answer to someone not taking part (hourly cap)
    subject: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    token: Mapped[str | None] = mapped_column(String(32), index=True)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=OutStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    interrupted: Mapped[int] = mapped_column(default=0, server_default="0")
    """Attempts whose end nobody saw (a killed run, a refused write, a connection lost after the
    data): each may have reached the server, so after two the email waits for the organiser."""
    accepted: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Recipients the server has taken this email for, one a line: a retry goes to the others only."""
    rejected: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Recipients refused for good (5xx), one a line, with the reply in `last_error`."""

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in self.recipients.split("\n") if r]

    @property
    def pending(self) -> list[str]:
        """Recipients still to be given the email."""
        done = set(self.accepted.split("\n")) | set(self.rejected.split("\n"))
        return [r for r in self.recipient_list if r not in done]
