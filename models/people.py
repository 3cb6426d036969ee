"""Participants and the single-use tokens that prove they own their address."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.bounded import Bounded


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"
    SUSPENDED = "suspended"


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Bounded(320), unique=True)
    name: Mapped[str] = mapped_column(Bounded(200), default="")
    call_me: Mapped[str] = mapped_column(Bounded(60), default="")  # what they asked to be called ("Call me:")
    organisation: Mapped[str] = mapped_column(Bounded(200), default="")
    role: Mapped[str] = mapped_column(Bounded(200), default="")
    phone: Mapped[str] = mapped_column(Bounded(60), default="")
    video: Mapped[str] = mapped_column(Bounded(200), default="")
    links: Mapped[str] = mapped_column(Bounded(2000, text=True), default="")
    bio: Mapped[str] = mapped_column(Bounded(2000, text=True), default="")
    # When and how they can meet (PROFILE "Available:", "Meet:", "Where:", "Time zone:"; issue 16).
    available: Mapped[str] = mapped_column(Bounded(300), default="", server_default="")  # as they wrote it
    availability: Mapped[str] = mapped_column(Text, default="", server_default="")  # parsed weekly windows, JSON
    meet_mode: Mapped[str] = mapped_column(String(16), default="", server_default="")  # online / in_person / either
    place: Mapped[str] = mapped_column(Bounded(100), default="", server_default="")  # a town or office
    no_trials: Mapped[bool] = mapped_column(default=False, server_default="0")  # replied NO TRIALS (issue 17)
    time_zone: Mapped[str] = mapped_column(Bounded(64), default="", server_default="")  # IANA key; "" = the service's
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    reply_token: Mapped[str] = mapped_column(Bounded(32), unique=True)
    campaign: Mapped[str] = mapped_column(Bounded(64), default="")
    bounce_score: Mapped[int] = mapped_column(default=0)
    last_bounce_at: Mapped[datetime | None]
    skip_next: Mapped[bool] = mapped_column(default=False)
    paused_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None]

    tokens: Mapped[list[Token]] = relationship(back_populates="participant", cascade="all, delete-orphan")

    @property
    def greeting_name(self) -> str:
        """What greetings call them: the name they asked for, else the first word of their name."""
        return self.call_me or (self.name.split() or [""])[0]

    def __repr__(self) -> str:
        return f"<Participant {self.id} {self.status}>"


class Purpose(StrEnum):
    JOIN = "join"
    COMMAND = "command"
    FORGET = "forget"


class Token(Base):
    """A single-use secret we mailed to an address; replying with it confirms a request."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(Bounded(32), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text, default="")
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship(back_populates="tokens")
