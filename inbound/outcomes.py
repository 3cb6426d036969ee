"""MET and NOT MET: a member reports on their group; the latest report counts.

A report replaces the last one and its reason reaches the digest and the report, so like a
settings change it needs proof of the sender: the group's token (in its thread), their own
token, DKIM/DMARC from our server (Context.trusted); otherwise the member is asked to CONFIRM.
"""
from __future__ import annotations

from inbound.commands import Command, is_greeting
from inbound.context import Context, Decision, answer, latest_match
from inbound.reasons import reason_group
from inbound.signup import ask_to_confirm
from mailer.headers import clean_header_text
from models import Outcome, Participant
from rounds.pair_index import refresh_match


def met(ctx: Context) -> Decision:
    return _report(ctx, met=True)


def not_met(ctx: Context) -> Decision:
    return _report(ctx, met=False)


def _report(ctx: Context, met: bool) -> Decision:
    person = ctx.participant
    match = ctx.match or (latest_match(ctx.session, person) if person else None)
    if person is None or match is None:
        sent = answer(ctx, "participant/not_a_member", person or ctx.mail.sender,
                      command=ctx.command.name if ctx.command else "reply", no_group_yet=person is not None)
        return Decision("outcome-unmatched", "no group found for this sender" + ("" if sent else "; not answered"))
    if person.id not in {m.participant_id for m in match.members}:
        return Decision("outcome-not-member", f"sender is not in group {match.id}")
    if not ctx.trusted and ctx.command is not None:
        return ask_to_confirm(ctx, person, ctx.command, match)
    reason = "" if met else clean_header_text(_reason(ctx.command))[:500]
    ctx.session.add(Outcome(match_id=match.id, participant_id=person.id, met=met, reason=reason,
                            reason_group=reason_group(reason), reported_at=ctx.now, inbound_id=ctx.record.id))
    refresh_match(ctx.session, match.id)
    others = [ctx.session.get_one(Participant, m.participant_id) for m in match.members if m.participant_id != person.id]
    answer(ctx, "participant/outcome_thanks", person, met=met, reason=reason,
           others=" and ".join(o.name or o.email for o in others))
    return Decision("met" if met else "not-met", f"group {match.id}")


def _reason(command: Command | None) -> str:
    """The words after NOT MET, or else the first line below it that is not a greeting or sign-off
    ("NOT MET" on its own line, the reason on the next; or NOT MET in the subject)."""
    if command is None:
        return ""
    if command.args:
        return command.args
    return next((line for line in command.body.split("\n") if line.strip() and not is_greeting(line)), "")
