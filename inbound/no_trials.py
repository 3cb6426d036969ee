"""NO TRIALS: stay out of every trial of how the scheme works, now and later, and carry on as before."""
from __future__ import annotations

from inbound.context import Context, Decision, answer, audit
from models import Status
from trials.store import leave_trials


def no_trials(ctx: Context) -> Decision:
    person = ctx.participant
    if person is None or person.status == Status.LEFT:
        answer(ctx, "participant/not_a_member", ctx.mail.sender, command="NO TRIALS", no_group_yet=False)
        return Decision("not-a-member", "NO TRIALS from someone not taking part")
    left = leave_trials(ctx.session, person, ctx.now)
    person.updated_at = ctx.now
    audit(ctx, person, "no-trials", person.status, f"left {left} running trial{'s' if left != 1 else ''}")
    answer(ctx, "participant/no_trials", person)
    return Decision("no-trials", f"left {left} running")
