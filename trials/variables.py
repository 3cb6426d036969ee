"""What a trial can vary, its arms, and whether the arms are drawn apart (pure).

Cadence and group size change the meeting itself, so each arm is drawn on its own: a trio never mixes
someone on two-monthly rounds with someone on monthly ones. Options to book and conversation starters
change only what each person's own copy of the introduction says, so the draw mixes the arms and
every guarantee of the draw (no repeats, fewest same-organisation pairs) holds over everyone.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    key: str
    arms: dict[str, str]          # arm key -> how the page names it
    apart: bool                   # each arm drawn on its own
    what: str                     # what is compared, in the participants' words


VARIABLES = {
    "cadence": Variable("cadence", {"monthly": "Monthly rounds", "two-monthly": "Two-monthly rounds"}, True,
                        "meeting every month against every two months"),
    "group_size": Variable("group_size", {"pairs": "Pairs", "trios": "Groups of three", "fours": "Groups of four"},
                           True, "meeting in pairs against in small groups"),
    "options": Variable("options", {"options": "Times to book", "no-options": "No times offered"}, False,
                        "introductions that offer times to book against introductions that do not"),
    "starters": Variable("starters", {"starters": "A conversation starter", "no-starters": "No starter"}, False,
                         "introductions with a conversation starter against without"),
}
GROUP_SIZES = {"pairs": 2, "trios": 3, "fours": 4}


class TrialError(ValueError):
    """A trial that cannot be planned, started or stopped as asked: the message says what to do."""


def variable_for(arms: list[str]) -> Variable:
    """The variable the arms belong to; all of them must be arms of the same one."""
    for variable in VARIABLES.values():
        if arms and all(a in variable.arms for a in arms):
            if len(set(arms)) != len(arms) or len(arms) < 2:
                break
            return variable
    known = "; ".join(f"{v.key}: {', '.join(v.arms)}" for v in VARIABLES.values())
    raise TrialError(f"arms {', '.join(arms) or '(none)'} are not two or more arms of one thing to compare; "
                     f"choose from {known}")


def sits_out(variable: Variable, arm: str, round_no: int, first_round: int) -> bool:
    """Two-monthly people take part in the trial's first round and every second one after."""
    return variable.key == "cadence" and arm == "two-monthly" and (round_no - first_round) % 2 == 1
