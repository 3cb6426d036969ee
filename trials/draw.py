"""The trials' part in a draw: read who is in which arm, and join the arms' separate draws into one."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import Grouping, Score
from models import Experiment, Round
from trials.rounds import RoundTrials, round_trials
from trials.store import arms_now


def round_trials_now(session: Session, people: Sequence[int]) -> RoundTrials:
    """What the running trials change in the next round's draw for ``people``."""
    number = (session.scalar(select(func.max(Round.number))) or 0) + 1
    first = {variable: start for variable, start in session.execute(
        select(Experiment.variable, Experiment.first_round).where(Experiment.started_at.is_not(None),
                                                                  Experiment.stopped_at.is_(None)))}
    if not first:
        return RoundTrials(parts={(): list(people)})
    return round_trials(people, arms_now(session), {v: s or number for v, s in first.items()}, number)


def combine(groupings: Sequence[Grouping]) -> tuple[Grouping, list[int]]:
    """One grouping from the arms' draws, and whoever else sits out for an odd number (one per arm at most)."""
    if len(groupings) == 1:
        return groupings[0], []
    groups = tuple(sorted(g for grouping in groupings for g in grouping.groups))
    sitters = [g.sitting_out for g in groupings if g.sitting_out is not None]
    extras = tuple(e for g in groupings for e in g.extras)
    score = Score(*(sum(values) for values in zip(*(g.score for g in groupings)))) if groupings else Score(0, 0, 0, 0)
    trio_extra = next((g.trio_extra for g in groupings if g.trio_extra is not None), None)
    return Grouping(groups, sitters[0] if sitters else None, trio_extra, score, extras), sitters[1:]
