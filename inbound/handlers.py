"""Which function handles which command, and the rule that guards settings changes.

Adding a command touches one place: write a handler and add it to COMMANDS.
A command in GUARDED changes the sender's settings, so it runs only when the
message proves the sender owns the address (Context.trusted); otherwise the
real address is asked to CONFIRM it first. LEAVE from a group's thread is
always confirmed first: chat there can read like a goodbye.
"""
from __future__ import annotations

from typing import Callable

from inbound.booking import book, reschedule
from inbound.context import CAPPED, Context, Decision, answer, held_back
from inbound.membership import leave, pause, resume, skip
from inbound.no_trials import no_trials
from inbound.outcomes import met, not_met
from inbound.privacy import forget, mydata
from inbound.profile import profile, profile_updates, share
from inbound.signup import ask_to_confirm, confirm, join
from mailer.outbox import sent_today

GUARDED = {"SKIP", "PAUSE", "RESUME", "LEAVE", "SHARE", "NO TRIALS"}


def help_(ctx: Context) -> Decision:
    if answer(ctx, "participant/help", ctx.participant or ctx.mail.sender):
        return Decision("help-sent", "sent the list of commands")
    return Decision("help-limited", CAPPED)


def not_understood(ctx: Context) -> Decision:
    """One friendly answer a day at most: a second confused mail (or a robot we missed) gets silence.

    Conversation in a group's thread (people arranging their coffee with us in
    copy) is expected and never answered; any reply to "still in?" keeps the person in.
    """
    if ctx.match is not None:
        return Decision("conversation", f"group {ctx.match.id} thread")
    if "still_in" in ctx.kinds and ctx.participant is not None:
        return Decision("still-in", "replied to the still-in question")
    if ctx.mail.calendar:
        return Decision("calendar", "a calendar invitation or reply, not answered (one was meant for a person)")
    if sent_today(ctx.session, ctx.mail.sender, ctx.now, kind="not_understood"):
        return Decision("not-understood", held_back(ctx, "the list of commands already went to this address today"))
    if answer(ctx, "participant/not_understood", ctx.participant or ctx.mail.sender):
        return Decision("not-understood", "sent the list of commands")
    return Decision("not-understood", CAPPED)


COMMANDS: dict[str, Callable[[Context], Decision]] = {
    "JOIN": join,
    "CONFIRM": lambda ctx: confirm(ctx, dispatch),
    "HELP": help_,
    "MET": met,
    "NOT MET": not_met,
    "SKIP": skip,
    "PAUSE": pause,
    "RESUME": resume,
    "LEAVE": leave,
    "PROFILE": profile,
    "SHARE": share,
    "FORGET": forget,
    "MYDATA": mydata,
    "NO TRIALS": no_trials,
    "BOOK": book,
    "RESCHEDULE": reschedule,
}


def needs_confirmation(ctx: Context) -> bool:
    """Whether the sender's address must CONFIRM this command before it runs (see the module's docstring)."""
    if ctx.command is None or ctx.participant is None or ctx.confirmed:
        return False
    if ctx.command.name == "LEAVE" and ctx.match is not None:
        return True
    if ctx.trusted:
        return False
    if ctx.command.name == "PROFILE":
        return bool(profile_updates(f"{ctx.command.args}\n{ctx.command.body}"))
    return ctx.command.name in GUARDED


def dispatch(ctx: Context) -> Decision:
    if ctx.command is None:
        return not_understood(ctx)
    if needs_confirmation(ctx):
        assert ctx.participant is not None
        return ask_to_confirm(ctx, ctx.participant, ctx.command)
    return COMMANDS[ctx.command.name](ctx)
