"""Rounds, the groups (two or three people) made in them, what each person reported, and the index of past pairs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.bounded import Bounded


class Round(Base):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    seed: Mapped[int]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    nudge_due: Mapped[datetime | None]
    checkin_due: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    nudged_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    matches: Mapped[list[Match]] = relationship(back_populates="round", cascade="all, delete-orphan")
    sit_outs: Mapped[list[SitOut]] = relationship(back_populates="round", cascade="all, delete-orphan")


class SitOut(Base):
    """Someone eligible who was not matched this round, and why (they are always told)."""

    __tablename__ = "sit_outs"
    __table_args__ = (UniqueConstraint("round_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))

    round: Mapped[Round] = relationship(back_populates="sit_outs")


class Match(Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(Bounded(32), unique=True)
    odd_one_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    intro_message_id: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Meetings (issue 16): the host, the options offered and the booking made from them.
    host_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    options: Mapped[str] = mapped_column(Text, default="", server_default="")  # JSON list of UTC ISO starts, option 1 first
    options_at: Mapped[datetime | None]  # when the current options were offered
    booking_state: Mapped[str] = mapped_column(String(16), default="", server_default="")  # "", booked, cancelled
    booked_start: Mapped[datetime | None]  # UTC start of the booked slot
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    booked_at: Mapped[datetime | None]  # when the booking reply arrived
    booking_uid: Mapped[str] = mapped_column(String(200), default="", server_default="")  # iCalendar UID, minted once
    booking_sequence: Mapped[int] = mapped_column(default=0, server_default="0")  # iCalendar SEQUENCE, never lowered
    starter: Mapped[str] = mapped_column(Bounded(500), default="", server_default="")  # the conversation starter given

    round: Mapped[Round] = relationship(back_populates="matches")
    members: Mapped[list[MatchMember]] = relationship(back_populates="match", cascade="all, delete-orphan")
    outcomes: Mapped[list[Outcome]] = relationship(back_populates="match", cascade="all, delete-orphan")


class MatchMember(Base):
    __tablename__ = "match_members"
    __table_args__ = (UniqueConstraint("match_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)

    match: Mapped[Match] = relationship(back_populates="members")


class Outcome(Base):
    """One person's report on one match; the latest report from a person counts."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    met: Mapped[bool]
    reason: Mapped[str] = mapped_column(Bounded(2000, text=True), default="")
    reason_group: Mapped[str] = mapped_column(String(16), default="")
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))

    match: Mapped[Match] = relationship(back_populates="outcomes")


class CalendarReply(Base):
    """An iTIP REPLY (Accept / Decline in a calendar) that came back to our address: recorded, never answered."""
    __tablename__ = "calendar_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    uid: Mapped[str] = mapped_column(Bounded(200), default="")
    sequence: Mapped[int] = mapped_column(default=0)
    partstat: Mapped[str] = mapped_column(String(16), default="")  # ACCEPTED, DECLINED, TENTATIVE, ...
    stamp: Mapped[datetime | None]  # the reply's DTSTAMP: of two answers to one SEQUENCE the later-made counts
    applied: Mapped[bool] = mapped_column(default=False)  # False: stale SEQUENCE, unknown UID or attendee
    note: Mapped[str] = mapped_column(Bounded(200), default="")  # why it was or was not applied
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(Base):
    """What someone chose to share about a round (a link or a few lines), kept for its report."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Bounded(2000, text=True, lines=True))
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)


class PairBucket(Base):
    """One slice of the index of past pairs the draw reads (`rounds.pair_index`): derived from the
    matches and outcomes, kept in step with them, and rebuilt from them by `rounds.pair_index.rebuild`.

    Every pair whose packed key falls in the bucket, as two arrays: the keys (little-endian
    unsigned 64-bit) and their values ``last round << 1 | counts as met`` (unsigned 32-bit).
    Ids only: nothing in it names anyone.
    """

    __tablename__ = "pair_buckets"

    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    pairs: Mapped[int] = mapped_column(default=0)
    last_round: Mapped[int] = mapped_column(default=0)
    pair_keys: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    pair_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
