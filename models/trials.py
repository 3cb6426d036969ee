"""Trials (issue 17): a randomised experiment of how the scheme works, and who is in which arm."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.bounded import Bounded


class Experiment(Base):
    """A trial: planned, then started (people assigned), then stopped (its result kept)."""
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Bounded(60), unique=True)
    variable: Mapped[str] = mapped_column(String(20))       # cadence, group_size, options, starters
    arms: Mapped[str] = mapped_column(String(200))          # comma-separated arm keys, control first
    rounds: Mapped[int] = mapped_column(default=6)          # how many rounds it is planned to run
    seed: Mapped[int | None] = mapped_column(BigInteger)    # of the assignment, published in the report
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    first_round: Mapped[int | None]                         # the first round drawn after the start
    stopped_at: Mapped[datetime | None]
    last_round: Mapped[int | None]                          # the last round that counts
    stopped_early: Mapped[bool] = mapped_column(default=False)
    result: Mapped[str] = mapped_column(Text, default="")   # the sentence when it stopped

    @property
    def arm_list(self) -> list[str]:
        return [a for a in self.arms.split(",") if a]

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None


class Assignment(Base):
    """One person's arm in a trial. Kept without the person after FORGET, so arm sizes stay true."""
    __tablename__ = "trial_assignments"
    __table_args__ = (UniqueConstraint("experiment_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    arm: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    late: Mapped[bool] = mapped_column(default=False)       # joined after the start
    left_at: Mapped[datetime | None]                        # replied NO TRIALS, or was forgotten
